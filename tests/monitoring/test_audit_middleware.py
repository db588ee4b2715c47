"""One audit row per state-changing request: who (as authenticated), how, where, what, outcome."""

from __future__ import annotations

import logging

import pytest
from django.db import DatabaseError
from django.urls import reverse
from rest_framework.test import APIClient

from apps.monitoring import audit_middleware
from apps.monitoring.audit_middleware import NOT_RECORDED
from apps.monitoring.chain import chain_verify
from apps.monitoring.models import AuditEvent
from apps.security.api_keys.services import api_key_create
from apps.security.scopes import CONFIG_ADMIN
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

CLEAR = "/api/v1/cache/clear/"
CLEAR_ROUTE = "api/v1/cache/clear/"
TOKEN = "/api/v1/auth/token/"


def _bearer(username: str) -> APIClient:
    signed_in = APIClient().post(TOKEN, {"username": username, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed_in.json()['access']}")
    return client


def test_a_jwt_request_is_recorded_with_its_user_route_outcome_and_request_id(administrator):
    client = _bearer("administrator")

    response = client.post(CLEAR)

    assert response.status_code == 200
    row = AuditEvent.objects.requests().get(route=CLEAR_ROUTE)
    assert (row.actor, row.actor_name, row.auth) == (administrator, "administrator", "jwt")
    assert (row.source, row.method, row.status, row.outcome) == ("api", "POST", 200, "ok")
    assert (row.ip, row.request_id) == ("127.0.0.1", response["X-Request-ID"])
    assert row.duration_ms > 0
    assert (row.before, row.after) == (None, None)  # never the body


def test_the_services_events_share_the_requests_id(administrator_client):
    response = administrator_client.post(CLEAR)

    rows = AuditEvent.objects.filter(request_id=response["X-Request-ID"])
    assert sorted(rows.values_list("action", flat=True)) == ["cache.clear", AuditEvent.REQUEST]


def test_an_api_key_request_is_recorded_as_its_owner_and_key(administrator):
    api_key, key = api_key_create(
        owner=administrator, name="ci", scopes=[CONFIG_ADMIN], actor=None, source="test"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")

    assert client.post(CLEAR).status_code == 200

    row = AuditEvent.objects.requests().get(route=CLEAR_ROUTE)
    assert (row.actor, row.auth) == (administrator, f"api_key:{api_key.prefix}")


def test_an_admin_form_post_is_recorded_as_the_session_user(client, administrator, viewer):
    client.force_login(administrator)

    response = client.post(reverse("admin:auth_user_delete", args=[viewer.pk]), {"post": "yes"})

    assert response.status_code == 302
    row = AuditEvent.objects.requests().get()
    assert (row.actor, row.auth, row.source, row.status) == (administrator, "session", "admin", 302)
    assert row.route == "admin/auth/user/<path:object_id>/delete/"
    assert AuditEvent.objects.get(action="user.delete").request_id == row.request_id


def test_the_route_is_the_url_pattern_not_the_path(operator_client):
    response = operator_client.post("/api/v1/jobs/987654/actions/hold/")

    assert response.status_code == 404
    row = AuditEvent.objects.requests().get()
    assert row.route == row.target == "api/v1/jobs/<int:pk>/actions/<str:action>/"
    assert row.outcome == "failed"


def test_an_anonymous_refusal_is_recorded_as_denied(anon_client):
    assert anon_client.post(CLEAR).status_code == 401

    row = AuditEvent.objects.requests().get()
    assert (row.actor, row.actor_name, row.auth, row.outcome) == (None, "anonymous", "", "denied")


def test_a_sign_in_is_recorded_without_its_password(viewer):
    APIClient().post(TOKEN, {"username": "viewer", "password": PASSWORD})

    row = AuditEvent.objects.requests().get()
    assert row.route == "api/v1/auth/token/"
    stored = list(AuditEvent.objects.values())
    assert PASSWORD not in repr(stored)


def test_a_request_refused_before_its_view_is_recorded(administrator_client):
    response = administrator_client.generic(
        "POST", CLEAR, "{}", content_type="application/json", CONTENT_LENGTH=str(10**10)
    )

    assert response.status_code == 413
    row = AuditEvent.objects.requests().get()
    assert (row.route, row.status, row.outcome) == (CLEAR_ROUTE, 413, "failed")


def test_a_throttled_request_writes_no_row(settings, viewer):
    # A guessing flood refused with 429s must not cost a chained INSERT per refusal.
    settings.RESYNC_THROTTLE_RATES = {**settings.RESYNC_THROTTLE_RATES, "login": "1/min"}
    guesser = APIClient(REMOTE_ADDR="203.0.113.9")
    guesser.post(TOKEN, {"username": "viewer", "password": "wrong"})
    before = AuditEvent.objects.requests().count()

    refused = guesser.post(TOKEN, {"username": "viewer", "password": "wrong"})

    assert refused.status_code == 429
    assert AuditEvent.objects.requests().count() == before


def test_reads_and_unknown_paths_write_nothing(administrator_client):
    assert administrator_client.get("/api/v1/cache/stats/").status_code == 200
    assert administrator_client.post("/api/v1/no-such-thing/").status_code == 404

    assert not AuditEvent.objects.exists()


def test_every_request_row_joins_the_chain(administrator_client, anon_client):
    administrator_client.post(CLEAR)
    anon_client.post(CLEAR)

    assert AuditEvent.objects.count() == 3
    assert chain_verify().intact


def test_a_request_row_that_cannot_be_written_does_not_fail_the_request(
    administrator_client, monkeypatch, caplog
):
    def disk_full(**kwargs):
        raise DatabaseError("could not extend file: No space left on device")

    monkeypatch.setattr(audit_middleware, "audit_request_record", disk_full)

    with caplog.at_level(logging.ERROR, logger=audit_middleware.__name__):
        response = administrator_client.post(CLEAR)

    assert response.status_code == 200
    assert [r.msg for r in caplog.records] == [NOT_RECORDED]
    assert "No space left" in caplog.records[0].getMessage()


def test_each_recorded_request_is_one_log_line_with_user_route_and_duration(
    administrator_client, caplog
):
    with caplog.at_level(logging.INFO, logger=audit_middleware.__name__):
        administrator_client.post(CLEAR)

    (line,) = caplog.records
    assert line.getMessage() == f"POST {CLEAR_ROUTE} 200"
    assert (line.user, line.route, line.status) == ("administrator", CLEAR_ROUTE, 200)
    assert line.duration_ms > 0
