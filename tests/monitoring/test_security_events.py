"""The security-event middleware: it records suspicious requests and error answers, and never
changes or refuses a request. The API's own validation decides every status."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.monitoring import security_events
from apps.monitoring.models import SecurityEvent
from apps.monitoring.security_events import BURST, ERROR, FOUND, FOUND_IN_BODY
from apps.monitoring.services import recorder, security_events_flush
from apps.security.api_keys.models import ApiKey
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db

Kind, Severity = SecurityEvent.Kind, SecurityEvent.Severity
JOBS = "/api/v1/jobs/"
API_KEYS = "/api/v1/api-keys/"
FORM = "application/x-www-form-urlencoded"


def _events() -> list[SecurityEvent]:
    security_events_flush()
    return list(SecurityEvent.objects.order_by("kind", "ip"))


# --- Valid input: no event, and the view gets it exactly as sent -------------------------

VALID = [
    "O'Brien",
    "d'Artagnan's job",
    '"Nightly" #2',
    "JOB_#1",
    "ACME#PAYROLL_Ü",
    "Café Crème",
    "l'été 'brouillon'",
    "Müller & Söhne; Ærø",
    "50% done",
    "v1..v2",
    "Tom's or Jerry's = fun",
    "it's -- fine",
    "x < y and y > z",
    "a+b=c",
    "SELECT_JOBS",
    "<b>bold</b>",
]


@pytest.mark.parametrize("name", VALID)
def test_a_valid_search_reaches_the_view_unchanged_and_records_nothing(viewer_client, name):
    JobFactory(name=name)

    response = viewer_client.get(JOBS, {"q": name})

    assert response.status_code == 200
    assert [job["name"] for job in response.json()["results"]] == [name]
    assert _events() == []


@pytest.mark.parametrize("name", VALID)
def test_a_valid_body_reaches_the_view_unchanged_and_records_nothing(
    administrator_client, administrator, name
):
    body = {"name": name, "owner": administrator.username, "scopes": ["plan:read"]}

    response = administrator_client.post(API_KEYS, body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["name"] == name
    assert ApiKey.objects.get(prefix=response.json()["prefix"]).name == name
    assert _events() == []


# --- Hostile input: recorded, and answered as the API answers it anyway -------------------

HOSTILE = [
    # (label, request, status the API gives, kind, pattern, where). A path no view answers
    # (the traversal 404) names no user: nothing authenticated the request.
    ("tautology", {"path": JOBS, "data": {"q": "' OR 1=1--"}}, 200, Kind.SQL_INJECTION,
     "tautology", "query"),
    ("union", {"path": JOBS, "data": {"q": "1 UNION SELECT password FROM auth_user"}}, 200,
     Kind.SQL_INJECTION, "union-select", "query"),
    ("script", {"path": JOBS, "data": {"q": "<script>alert(1)</script>"}}, 200, Kind.XSS,
     "script-tag", "query"),
    ("traversal in query", {"path": JOBS, "data": {"q": "../../etc/passwd"}}, 200,
     Kind.PATH_TRAVERSAL, "dot-dot", "query"),
    ("NUL", {"path": JOBS, "data": {"q": "job\x00"}}, 400, Kind.NULL_BYTE, "nul", "query"),
    ("scanner", {"path": JOBS, "HTTP_USER_AGENT": "sqlmap/1.7.2#stable"}, 200, Kind.SCANNER,
     "sqlmap", "user agent"),
    ("traversal in path", {"path": "/api/v1/jobs/..%2f..%2fetc%2fpasswd/"}, 404,
     Kind.PATH_TRAVERSAL, "dot-dot", "path"),
    ("traversal in a job's path", {"path": "/api/v1/jobs/1/", "data": {"f": "/proc/self/"}},
     400, Kind.PATH_TRAVERSAL, "system-file", "query"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("request_kwargs", "status", "kind", "pattern", "where"),
    [pytest.param(*case[1:], id=case[0]) for case in HOSTILE],
)
def test_a_hostile_request_is_answered_normally_and_recorded(
    viewer_client, viewer, request_kwargs, status, kind, pattern, where
):
    response = viewer_client.get(**request_kwargs)

    assert response.status_code == status
    event = next(e for e in _events() if e.kind == kind)
    user, username = (None, "") if status == 404 else (viewer, "viewer")
    assert (event.ip, event.user, event.username) == ("127.0.0.1", user, username)
    assert event.path == response.wsgi_request.path
    assert event.request_id == response["X-Request-ID"]
    assert (event.pattern, event.count) == (pattern, 1)
    assert event.detail.startswith(f"in {where}: ")
    assert event.detail.endswith(f"(answered {status})")
    assert event.severity == security_events.SEVERITY[kind]


def test_a_hostile_json_body_reaches_the_view_unchanged_and_is_recorded(
    administrator_client, administrator
):
    name = "<img src=x onerror=alert(1)>"
    body = {"name": name, "owner": administrator.username, "scopes": ["plan:read"]}

    response = administrator_client.post(API_KEYS, body, format="json")

    assert response.status_code == 201
    assert response.json()["name"] == name
    (event,) = _events()
    assert (event.kind, event.pattern) == (Kind.XSS, "event-handler")
    assert event.detail == FOUND_IN_BODY.format(content_type="application/json", status=201)


def test_a_hostile_login_is_refused_as_any_wrong_login_and_recorded(anon_client):
    body = {"username": "admin' --", "password": "x"}

    response = anon_client.post("/api/v1/auth/token/", body, format="json")

    assert response.status_code == 401
    kinds = {event.kind: event for event in _events()}
    assert set(kinds) == {Kind.SQL_INJECTION, Kind.HTTP_ERROR}
    assert kinds[Kind.SQL_INJECTION].pattern == "quote-comment"
    assert kinds[Kind.SQL_INJECTION].user is None


def test_a_hostile_form_body_is_recorded(client):
    body = urlencode({"username": "' or 1=1--", "password": "x"})

    response = client.post("/admin/login/", body, content_type=FORM)

    assert response.status_code == 200  # the login form again, with its error
    (event,) = _events()
    assert (event.kind, event.pattern) == (Kind.SQL_INJECTION, "tautology")
    assert "x-www-form-urlencoded" in event.detail


def test_the_nul_of_a_path_is_stored_escaped(viewer_client):
    response = viewer_client.get("/api/v1/jobs/%00/")

    assert response.status_code == 404
    event = next(e for e in _events() if e.kind == Kind.NULL_BYTE)
    assert event.path == "/api/v1/jobs/\\x00/"
    assert "\\x00" in event.detail


# --- Error answers and bursts ----------------------------------------------------------


def test_every_error_answer_is_recorded_with_its_status_and_user_agent(anon_client):
    response = anon_client.get(JOBS, HTTP_USER_AGENT="curl/8.5.0")

    assert response.status_code == 401
    (event,) = _events()
    assert (event.kind, event.severity, event.pattern) == (Kind.HTTP_ERROR, Severity.LOW, "401")
    assert event.detail == ERROR.format(method="GET", status=401, user_agent="curl/8.5.0")
    assert event.request_id == response["X-Request-ID"]


@pytest.mark.urls("tests.monitoring.failing_urls")
def test_a_server_error_is_a_medium_event(client):
    assert client.get("/boom/").status_code == 502

    (event,) = _events()
    assert (event.kind, event.severity, event.pattern) == (Kind.HTTP_ERROR, Severity.MEDIUM, "502")


def test_a_burst_of_denials_from_one_address_is_an_error_burst(anon_client, settings, frozen_clock):
    settings.RESYNC_SECURITY_EVENTS_BURST = 5
    for _ in range(7):
        assert anon_client.get(JOBS).status_code == 401
    for _ in range(4):
        assert anon_client.get(JOBS, REMOTE_ADDR="198.51.100.4").status_code == 401

    events = {(e.kind, e.ip): e for e in _events()}
    burst = events[(Kind.ERROR_BURST, "127.0.0.1")]
    assert burst.count == 7  # the five that made it a burst, and each one after
    assert burst.detail == BURST.format(count=5, threshold=5)
    assert burst.severity == Severity.MEDIUM
    assert events[(Kind.HTTP_ERROR, "127.0.0.1")].count == 7
    assert (Kind.ERROR_BURST, "198.51.100.4") not in events


def test_other_errors_make_no_burst(anon_client, settings):
    settings.RESYNC_SECURITY_EVENTS_BURST = 2
    for _ in range(3):
        assert anon_client.get(JOBS, {"junk": "1"}).status_code == 401  # 401 before the 400
    for _ in range(3):
        assert anon_client.get("/api/v1/health/", {"junk": "1"}).status_code == 400

    assert Kind.ERROR_BURST in {e.kind for e in _events()}
    SecurityEvent.objects.all().delete()
    for _ in range(3):
        assert anon_client.get("/api/v1/health/", {"junk": "2"}).status_code == 400
    assert {e.kind for e in _events()} == {Kind.HTTP_ERROR}


# --- Bounded recording -------------------------------------------------------------------


def test_recording_costs_the_request_no_database_write(anon_client):
    with CaptureQueriesContext(connection) as queries:
        for _ in range(20):
            anon_client.get("/api/v1/no-such/", {"q": "' OR 1=1--"}, HTTP_USER_AGENT="nikto")

    assert not [q for q in queries if "securityevent" in q["sql"].lower()]
    assert len(recorder.pending()) == 4  # sql_injection, scanner, http_error, error_burst


def test_a_hostile_flood_adds_one_row_per_address_kind_and_minute(anon_client):
    """10,000 requests in the benchmark; 1,000 here, flushed every 100 as the thread would."""
    addresses = ["203.0.113.1", "203.0.113.2", "2001:db8::3"]
    requests = 1000
    for n in range(requests):
        response = anon_client.get(
            "/api/v1/no-such/",
            {"q": f"' OR {n}={n}--"},
            REMOTE_ADDR=addresses[n % 3],
            HTTP_USER_AGENT="sqlmap/1.7",
        )
        assert response.status_code == 404
        if n % 100 == 99:
            security_events_flush()
    security_events_flush()

    rows = SecurityEvent.objects.all()
    minutes = set(rows.values_list("minute", flat=True))
    kinds = (Kind.SQL_INJECTION, Kind.SCANNER, Kind.HTTP_ERROR, Kind.ERROR_BURST)
    assert len(minutes) <= 2  # the test may straddle a minute, no more
    assert rows.count() <= len(addresses) * len(kinds) * len(minutes)
    for kind in (Kind.SQL_INJECTION, Kind.SCANNER, Kind.HTTP_ERROR):
        assert rows.filter(kind=kind).aggregate(total=Sum("count"))["total"] == requests


def test_with_the_setting_off_the_middleware_is_left_out(settings):
    settings.RESYNC_SECURITY_EVENTS = False
    client = APIClient()  # loads the middleware on its first request

    response = client.get("/api/v1/no-such/", {"q": "<script>"})

    assert response.status_code == 404
    assert recorder.pending() == []


def test_a_failure_in_detection_never_fails_the_request(viewer_client, monkeypatch):
    def broken(request):
        raise RuntimeError("a bug in a pattern")

    monkeypatch.setattr(security_events, "request_findings", broken)

    assert viewer_client.get(JOBS, {"q": "<script>"}).status_code == 200


def test_an_unreadable_body_is_left_to_the_body_limit(viewer_client):
    response = viewer_client.generic(
        "POST", API_KEYS, "{}", content_type="application/json", CONTENT_LENGTH="abc"
    )

    assert response.status_code == 400
    assert {e.kind for e in _events()} == {Kind.HTTP_ERROR}


def test_found_is_the_detail_of_a_query_finding(viewer_client):
    viewer_client.get(JOBS, {"q": "<script>"})

    (event,) = _events()
    assert event.detail == FOUND.format(where="query", excerpt="q=<script>", status=200)
