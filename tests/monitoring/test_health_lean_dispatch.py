"""Health polls served by the lean dispatch answer exactly as DRF's dispatch would.

Each case is asked twice within the second the check results are kept, once with the lean
dispatch and once through DRF's dispatch, with the same request id: status, body and headers
must be the same.
"""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

from apps.core.api.base import LeanDispatchMixin
from apps.core.api.errors import PROBLEM_CONTENT_TYPE
from apps.monitoring import health
from apps.monitoring.api.views import _ReportView
from apps.monitoring.health import UNHEALTHY, HealthCheck
from apps.security import throttling
from apps.security.tokens import AccessToken
from tests.lean_dispatch import assert_same, both_paths

pytestmark = pytest.mark.django_db

HEALTH = "/api/v1/health/"
READY = "/api/v1/health/ready/"
SEED_HEALTH = "/api/health"


@pytest.fixture(autouse=True)
def _fresh_results():
    health.health_results_clear()
    yield
    health.health_results_clear()


@pytest.fixture
def served(monkeypatch):
    """served() -> how many requests the lean dispatch answered so far."""
    hits = []
    lean, public = LeanDispatchMixin._lean_answer, _ReportView._public_answer

    def counting_lean(self, *args, **kwargs):
        answer = lean(self, *args, **kwargs)
        if answer is not None:
            hits.append("lean")
        return answer

    def counting_public(self, *args, **kwargs):
        hits.append("public")
        return public(self, *args, **kwargs)

    monkeypatch.setattr(LeanDispatchMixin, "_lean_answer", counting_lean)
    monkeypatch.setattr(_ReportView, "_public_answer", counting_public)
    return lambda: len(hits)


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.mark.parametrize("url", [HEALTH, READY, SEED_HEALTH])
def test_anyone_gets_the_same_overall_status(monkeypatch, served, url):
    lean, drf = both_paths(monkeypatch, APIClient(), url)

    assert served() == 1
    assert lean.status_code == 200
    assert set(lean.json()) == {"status"}
    assert_same(lean, drf)


def test_an_unhealthy_report_is_the_same_503(monkeypatch, served):
    def broken() -> None:
        raise RuntimeError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", HealthCheck(broken, UNHEALTHY))

    lean, drf = both_paths(monkeypatch, APIClient(), HEALTH)

    assert served() == 1
    assert (lean.status_code, lean.json()) == (503, {"status": "unhealthy"})
    assert_same(lean, drf)


@pytest.mark.parametrize("url", [HEALTH, READY])
def test_monitoring_readers_get_the_same_components(monkeypatch, served, auditor, url):
    lean, drf = both_paths(monkeypatch, bearer(auditor), url)

    assert served() == 1
    assert "components" in lean.json()
    assert_same(lean, drf)


def test_a_signed_in_caller_without_the_permission_sees_the_status_only(
    monkeypatch, served, viewer
):
    lean, drf = both_paths(monkeypatch, bearer(viewer), HEALTH)

    assert served() == 1
    assert set(lean.json()) == {"status"}
    assert_same(lean, drf)


def test_a_bad_token_still_gets_the_status(monkeypatch, served):
    # Authentication is lazy: a bad token only means no details, as through DRF's dispatch.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    lean, drf = both_paths(monkeypatch, client, HEALTH)

    assert_same(lean, drf)


def test_a_throttled_address_gets_the_same_429(monkeypatch, settings, served):
    now = (int(time.time()) // 60) * 60 + 20.0  # mid-window: the count does not restart
    monkeypatch.setattr(throttling, "_clock", lambda: now)
    settings.RESYNC_THROTTLE_RATES = {**settings.RESYNC_THROTTLE_RATES, "anon": "2/min"}
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    assert [client.get(HEALTH).status_code for _ in range(2)] == [200, 200]

    lean, drf = both_paths(monkeypatch, client, HEALTH)

    assert lean.status_code == 429
    assert lean["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert served() == 3
    assert_same(lean, drf)


@pytest.mark.parametrize("query", ["?junk=1", "?format=json&format=json", "?format=xml"])
def test_bad_parameters_get_the_same_answer(monkeypatch, served, query):
    lean, drf = both_paths(monkeypatch, APIClient(), HEALTH + query)

    assert served() == 0
    assert lean.status_code in (400, 404)
    assert_same(lean, drf)


def test_other_accept_headers_take_drfs_dispatch(monkeypatch, served):
    lean, drf = both_paths(monkeypatch, APIClient(), HEALTH, HTTP_ACCEPT="text/html")

    assert served() == 0
    assert lean.status_code == drf.status_code
    assert lean["Content-Type"] == drf["Content-Type"]
