"""A cached plan read served by the lean dispatch answers exactly as DRF's dispatch would.

Each case is asked twice, once with the lean dispatch and once with it switched off (every
request through DRF's dispatch), with the same request id: status, body and headers must be
the same, and the lean dispatch must have served the cases it is meant for.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from apps.core.api.base import LeanDispatchMixin
from apps.core.api.caching import CACHE_HEADER
from apps.core.api.errors import PROBLEM_CONTENT_TYPE
from apps.core.plan_generation import plan_generation_bump
from apps.security.api_keys.services import api_key_create
from apps.security.scopes import MONITORING_READ, PLAN_READ
from apps.security.tokens import AccessToken
from tests.factories import PASSWORD, JobFactory
from tests.lean_dispatch import assert_same, both_paths
from tests.security.conftest import key_client

pytestmark = pytest.mark.django_db

STATUS = "/api/v1/jobs/status/"
SEED_STATUS = "/api/jobs/status"
TOKEN = "/api/v1/auth/token/"
LOGOUT = "/api/v1/auth/logout/"


@pytest.fixture(autouse=True)
def _plan():
    JobFactory.create_batch(2, internal_state="SUCC")


@pytest.fixture
def served(monkeypatch):
    """served() -> how many requests the lean dispatch answered so far."""
    hits = []
    original = LeanDispatchMixin._lean_answer

    def counting(self, *args, **kwargs):
        answer = original(self, *args, **kwargs)
        if answer is not None:
            hits.append(True)
        return answer

    monkeypatch.setattr(LeanDispatchMixin, "_lean_answer", counting)
    return lambda: len(hits)


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def sign_in(username: str) -> dict[str, str]:
    response = APIClient().post(TOKEN, {"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


def issue_key(owner, scopes: list[str]):
    return api_key_create(owner=owner, scopes=scopes, actor=None, source="command", name="lean")


@pytest.fixture
def viewer_jwt(viewer) -> APIClient:
    client = bearer(sign_in("viewer")["access"])
    client.get(STATUS)  # fills the cache
    return client


@pytest.mark.parametrize("url", [STATUS, SEED_STATUS])
@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_a_hit_answers_as_drf_does(monkeypatch, served, viewer_jwt, url, accept):
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}

    lean, drf = both_paths(monkeypatch, viewer_jwt, url, **extra)

    assert served() == 1
    assert lean.status_code == 200
    assert lean[CACHE_HEADER] == "hit"
    assert lean.json()["total"] == 2
    assert_same(lean, drf)


def test_a_miss_goes_through_drf_and_fills_the_cache(served, viewer_jwt):
    plan_generation_bump()

    miss = viewer_jwt.get(STATUS)
    hit = viewer_jwt.get(STATUS)

    assert (miss[CACHE_HEADER], hit[CACHE_HEADER]) == ("miss", "hit")
    assert served() == 1  # the hit only
    assert miss.content == hit.content


def test_with_the_cache_off_every_read_goes_through_drf(settings, served, viewer_jwt):
    settings.API_CACHE_ENABLED = False
    response = viewer_jwt.get(STATUS)
    assert response.status_code == 200
    assert CACHE_HEADER not in response
    assert served() == 0


def test_an_anonymous_caller_gets_the_same_401(monkeypatch, served, viewer_jwt):
    lean, drf = both_paths(monkeypatch, APIClient(), STATUS)

    assert lean.status_code == 401
    assert lean["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert lean["WWW-Authenticate"].startswith("Bearer")
    assert served() == 1  # refused by the lean dispatch itself, through DRF's handler
    assert_same(lean, drf)


def test_a_caller_without_the_permission_gets_the_same_403(monkeypatch, served, viewer, outsider):
    bearer(sign_in("viewer")["access"]).get(STATUS)  # fills the cache

    lean, drf = both_paths(monkeypatch, bearer(sign_in("outsider")["access"]), STATUS)

    assert lean.status_code == 403
    assert served() == 1
    assert lean["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert_same(lean, drf)


def test_a_logged_out_sign_in_is_refused_as_before(monkeypatch, served, viewer_jwt):
    tokens = sign_in("viewer")
    client = bearer(tokens["access"])
    assert APIClient().post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 204

    lean, drf = both_paths(monkeypatch, client, STATUS)

    assert lean.status_code == 401
    assert_same(lean, drf)
    assert served() >= 1


def test_an_expired_token_is_refused_as_before(monkeypatch, served, viewer_jwt, viewer):
    token = AccessToken.for_user(viewer)
    token.set_exp(lifetime=-timedelta(minutes=5))

    lean, drf = both_paths(monkeypatch, bearer(str(token)), STATUS)

    assert lean.status_code == 401
    assert_same(lean, drf)


def test_a_tampered_token_is_refused_as_before(monkeypatch, viewer_jwt):
    token = sign_in("viewer")["access"]
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    lean, drf = both_paths(monkeypatch, bearer(tampered), STATUS)

    assert lean.status_code == 401
    assert_same(lean, drf)


def test_a_throttled_user_gets_the_same_429(monkeypatch, settings, served, viewer_jwt):
    settings.RESYNC_THROTTLE_RATES = {**settings.RESYNC_THROTTLE_RATES, "user": "3/hour"}
    assert [viewer_jwt.get(STATUS).status_code for _ in range(3)] == [200, 200, 200]

    lean, drf = both_paths(monkeypatch, viewer_jwt, STATUS)

    assert lean.status_code == 429
    assert lean["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert "Retry-After" in lean
    assert served() >= 4
    assert (lean.status_code, lean.json()["detail"]) == (drf.status_code, drf.json()["detail"])


@pytest.mark.parametrize(
    "query", ["?junk=1", "?format=json&format=json", "?total=1", "?format=xml"]
)
def test_bad_parameters_get_the_same_answer(monkeypatch, served, viewer_jwt, query):
    lean, drf = both_paths(monkeypatch, viewer_jwt, STATUS + query)

    assert lean.status_code in (400, 404)
    assert served() == 0  # the parameters are DRF's to refuse
    assert_same(lean, drf)


def test_an_anonymous_caller_with_bad_parameters_still_gets_401(monkeypatch, viewer_jwt):
    lean, drf = both_paths(monkeypatch, APIClient(), STATUS + "?junk=1")
    assert lean.status_code == 401
    assert_same(lean, drf)


def test_the_browsable_api_is_not_served_from_the_cache(monkeypatch, served, viewer_jwt):
    lean, drf = both_paths(monkeypatch, viewer_jwt, STATUS, HTTP_ACCEPT="text/html")

    assert served() == 0
    assert lean.status_code == drf.status_code
    assert lean["Content-Type"] == drf["Content-Type"]
    assert CACHE_HEADER not in lean


def test_a_format_suffix_or_charset_takes_drfs_path(served, viewer_jwt):
    assert viewer_jwt.get(STATUS + "?format=json").status_code == 200
    charset = viewer_jwt.get(STATUS, HTTP_ACCEPT="application/json; charset=utf-8")
    assert charset.status_code == 200
    assert served() == 0


def test_an_api_key_with_the_scope_is_served_from_the_cache(
    monkeypatch, served, viewer_jwt, viewer
):
    _, key = api_key_create(
        owner=viewer, actor=None, source="command", name="lean", scopes=[PLAN_READ]
    )

    lean, drf = both_paths(monkeypatch, key_client(key), STATUS)

    assert lean.status_code == 200
    assert served() == 1
    assert_same(lean, drf)


def test_an_api_key_without_the_scope_gets_the_same_403(monkeypatch, served, viewer_jwt, viewer):
    _, key = api_key_create(
        owner=viewer, actor=None, source="command", name="lean", scopes=[MONITORING_READ]
    )  # not the plan's scope

    lean, drf = both_paths(monkeypatch, key_client(key), STATUS)

    assert lean.status_code == 403
    assert served() == 1
    assert_same(lean, drf)


def test_a_head_request_takes_drfs_path(served, viewer_jwt):
    assert viewer_jwt.head(STATUS).status_code == 200
    assert served() == 0


def test_the_lean_dispatch_reads_no_database_on_a_hit(viewer_jwt, django_assert_num_queries):
    viewer_jwt.get(STATUS)  # the user row is now remembered
    with django_assert_num_queries(0):
        assert viewer_jwt.get(STATUS)[CACHE_HEADER] == "hit"


# --- the job list and one job (viewset actions) -----------------------------------------
def _job_urls() -> list[str]:
    from apps.core.models import Job

    job = Job.objects.order_by("id").first()
    return [
        "/api/v1/jobs/",
        "/api/v1/jobs/?status=Successful&ordering=-start&page_size=1",
        f"/api/v1/jobs/{job.pk}/",
    ]


@pytest.mark.parametrize("which", [0, 1, 2])
def test_a_job_list_or_job_hit_answers_as_drf_does(monkeypatch, served, viewer_jwt, which):
    url = _job_urls()[which]
    viewer_jwt.get(url)  # fills the cache

    lean, drf = both_paths(monkeypatch, viewer_jwt, url)

    assert served() == 1
    assert (lean.status_code, lean[CACHE_HEADER]) == (200, "hit")
    assert_same(lean, drf)


@pytest.mark.parametrize(
    ("query", "status"),
    [("?stauts=Error", 400), ("?page_size=1&page_size=2", 400), ("?status=Exploded", 400)],
)
def test_a_bad_job_list_query_is_refused_as_drf_does(
    monkeypatch, served, viewer_jwt, query, status
):
    lean, drf = both_paths(monkeypatch, viewer_jwt, f"/api/v1/jobs/{query}")

    assert lean.status_code == status
    assert served() == 0
    assert_same(lean, drf)


def test_an_anonymous_job_list_is_a_401_even_when_cached(monkeypatch, served, viewer_jwt):
    viewer_jwt.get("/api/v1/jobs/")

    lean, drf = both_paths(monkeypatch, APIClient(), "/api/v1/jobs/")

    assert lean.status_code == 401
    assert_same(lean, drf)


def test_a_missing_job_is_a_404_through_drf(monkeypatch, served, viewer_jwt):
    lean, drf = both_paths(monkeypatch, viewer_jwt, "/api/v1/jobs/999999999/")

    assert lean.status_code == 404
    assert served() == 0
    assert_same(lean, drf)
