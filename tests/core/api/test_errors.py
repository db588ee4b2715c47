"""The API's one error format: request ids, 404 and 500 problems."""

from __future__ import annotations

import pytest

from apps.core.api.errors import PROBLEM_CONTENT_TYPE

pytestmark = pytest.mark.django_db


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
