from __future__ import annotations

import pytest

from apps.core.api.errors import PROBLEM_CONTENT_TYPE
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

DATA_ENDPOINTS = [
    "/api/v1/jobs/",
    "/api/v1/jobs/status/",
    "/api/v1/workstations/",
    "/api/v1/jobstreams/",
]


@pytest.mark.parametrize("url", DATA_ENDPOINTS)
def test_anonymous_requests_get_a_401_problem(anon_client, url):
    response = anon_client.get(url)
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401
    assert body["request_id"] == response["X-Request-ID"]


def test_a_jwt_obtained_with_a_password_opens_the_api(anon_client, viewer):
    tokens = anon_client.post(
        "/api/v1/auth/token/", {"username": "viewer", "password": PASSWORD}
    ).json()
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert anon_client.get("/api/v1/jobs/").status_code == 200


def test_refresh_and_verify_work(anon_client, viewer):
    tokens = anon_client.post(
        "/api/v1/auth/token/", {"username": "viewer", "password": PASSWORD}
    ).json()
    refreshed = anon_client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 200
    verified = anon_client.post("/api/v1/auth/token/verify/", {"token": refreshed.json()["access"]})
    assert verified.status_code == 200


def test_a_wrong_password_is_a_401_problem(anon_client, viewer):
    response = anon_client.post("/api/v1/auth/token/", {"username": "viewer", "password": "no"})
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_a_forged_token_is_refused(anon_client, viewer):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = anon_client.get("/api/v1/jobs/")
    assert response.status_code == 401
    assert response.json()["title"] == "Unauthorized"


def test_the_admin_session_opens_the_api(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/api/v1/jobs/status/").status_code == 200


def test_a_caller_request_id_is_echoed(anon_client):
    response = anon_client.get("/api/v1/jobs/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    assert response.json()["request_id"] == "abc-123"


def test_an_unsafe_request_id_is_replaced(anon_client):
    response = anon_client.get("/api/v1/jobs/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32


def test_an_unknown_api_url_is_a_404_problem(anon_client):
    response = anon_client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE


def test_an_unexpected_error_is_a_500_problem_without_internals(
    viewer_client, monkeypatch, settings
):
    from apps.core import selectors
    from apps.core.api.errors import INTERNAL_ERROR_DETAIL

    def broken():
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(selectors, "job_status_summary", broken)
    settings.API_CACHE_ENABLED = False
    response = viewer_client.get("/api/v1/jobs/status/")
    assert response.status_code == 500
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert body["detail"] == INTERNAL_ERROR_DETAIL
    assert body["request_id"] == response["X-Request-ID"]
    assert "hunter2" not in response.content.decode()
