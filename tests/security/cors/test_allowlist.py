"""django-cors-headers answers from the in-memory allow-list: a listed origin gets the CORS
headers, anything else gets none, and no request queries the database for it."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from apps.security.cors.allowlist import cors_request_allowed
from apps.security.cors.services import cors_origin_create
from tests.security.cors.conftest import DISABLED, LISTED, UNLISTED

pytestmark = pytest.mark.django_db

HEALTH = "/api/v1/health/"
JOBS = "/api/v1/jobs/"


def cors_headers(response) -> dict[str, str]:
    return {
        k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-control-")
    }


def preflight(client, origin: str, path: str = JOBS):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )


def test_a_listed_origin_gets_the_cors_headers(client, origins):
    response = client.get(HEALTH, HTTP_ORIGIN=LISTED)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == LISTED
    assert "X-Request-ID" in response["Access-Control-Expose-Headers"]
    assert "origin" in response["Vary"].lower()


@pytest.mark.parametrize(
    "origin", [UNLISTED, "null", DISABLED, "https://ops.example.com:8443", "http://ops.example.com"]
)
def test_any_other_origin_gets_no_access_control_header(client, origins, origin):
    assert cors_headers(client.get(HEALTH, HTTP_ORIGIN=origin)) == {}
    assert cors_headers(preflight(client, origin)) == {}


def test_a_listed_origins_preflight_is_answered_and_cached(client, origins, settings):
    response = preflight(client, LISTED)
    assert response.status_code == 200
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == LISTED
    assert "GET" in headers["access-control-allow-methods"]
    assert "authorization" in headers["access-control-allow-headers"]
    assert headers["access-control-max-age"] == str(settings.CORS_PREFLIGHT_MAX_AGE)


def test_credentials_are_allowed_to_listed_origins_only(client, origins, settings):
    settings.CORS_ALLOW_CREDENTIALS = True
    listed = client.get(HEALTH, HTTP_ORIGIN=LISTED)
    assert listed["Access-Control-Allow-Credentials"] == "true"
    for origin in (UNLISTED, "null", DISABLED):
        assert cors_headers(client.get(HEALTH, HTTP_ORIGIN=origin)) == {}


def test_credentials_are_off_by_default(client, origins):
    assert "Access-Control-Allow-Credentials" not in client.get(HEALTH, HTTP_ORIGIN=LISTED)


def test_a_listed_origin_gets_no_cors_outside_the_api(client, origins):
    response = client.get("/admin/login/", HTTP_ORIGIN=LISTED)
    assert response.status_code == 200
    assert cors_headers(response) == {}


def test_nothing_is_allowed_before_the_allow_list_is_loaded(client, db):
    cors_origin_create(values={"origin": LISTED}, actor=None, source="test")  # not reloaded
    assert cors_headers(client.get(HEALTH, HTTP_ORIGIN=LISTED)) == {}


def test_the_answer_costs_no_query(origins, django_assert_num_queries):
    request = RequestFactory().get(JOBS, HTTP_ORIGIN=LISTED)
    other = RequestFactory().get(JOBS, HTTP_ORIGIN=UNLISTED)
    with django_assert_num_queries(0):
        assert cors_request_allowed(None, request) is True
        assert cors_request_allowed(None, other) is False
