"""GET /api/v1/audit/: the audit log for auditors, filtered, ordered and paginated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.middleware import request_id_context
from apps.monitoring.models import AuditEvent
from apps.monitoring.services import audit_record

pytestmark = pytest.mark.django_db

AUDIT = "/api/v1/audit/"


def _event(action: str, *, actor_name: str = "ops", days_ago: int = 0, **fields) -> AuditEvent:
    return AuditEvent.objects.create(
        actor_name=actor_name,
        source=fields.pop("source", "api"),
        action=action,
        target="t",
        at=timezone.now() - timedelta(days=days_ago),
        **fields,
    )


def _actions(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["action"] for row in response.json()["results"]]


def test_auditors_and_administrators_read_it_others_do_not(
    auditor_client, administrator_client, viewer_client, operator_client, anon_client
):
    _event("cache.clear")

    assert _actions(auditor_client.get(AUDIT)) == ["cache.clear"]
    assert administrator_client.get(AUDIT).status_code == 200
    assert viewer_client.get(AUDIT).status_code == 403
    assert operator_client.get(AUDIT).status_code == 403
    assert anon_client.get(AUDIT).status_code == 401


def test_a_row_shows_what_was_recorded_and_its_place_in_the_chain(auditor_client):
    event = _event(
        "pool_config.update", before={"max_size": 10}, after={"max_size": 20}, ip="192.0.2.7"
    )

    (row,) = auditor_client.get(AUDIT).json()["results"]

    assert row["actor"] == "ops"
    assert (row["before"], row["after"], row["ip"]) == (
        {"max_size": 10},
        {"max_size": 20},
        "192.0.2.7",
    )
    assert (row["hash"], row["prev_hash"]) == (event.hash, event.prev_hash)


def test_it_filters_by_actor_action_source_and_outcome(auditor_client):
    _event("cache.clear", actor_name="alice")
    _event("cache.clear", actor_name="bob", outcome="failed")
    _event("role.grant", actor_name="alice", source="command")

    assert _actions(auditor_client.get(AUDIT, {"actor": "alice", "action": "cache.clear"})) == [
        "cache.clear"
    ]
    assert _actions(auditor_client.get(AUDIT, {"source": "COMMAND"})) == ["role.grant"]
    assert _actions(auditor_client.get(AUDIT, {"outcome": "failed"})) == ["cache.clear"]


def test_it_filters_by_time(auditor_client):
    _event("old", days_ago=10)
    _event("middle", days_ago=5)
    _event("new", days_ago=0)
    since = (timezone.now() - timedelta(days=7)).isoformat()
    until = (timezone.now() - timedelta(days=1)).isoformat()

    assert _actions(auditor_client.get(AUDIT, {"since": since, "until": until})) == ["middle"]


def test_a_request_id_gives_the_request_and_every_change_it_made(
    auditor_client, administrator_client
):
    response = administrator_client.post("/api/v1/cache/clear/")
    with request_id_context("sync-run-1"):
        audit_record(actor=None, source="system", action="other", target="t")

    rows = auditor_client.get(AUDIT, {"request_id": response["X-Request-ID"]}).json()["results"]

    assert sorted(row["action"] for row in rows) == ["cache.clear", "request"]
    request_row = next(row for row in rows if row["action"] == "request")
    assert (request_row["method"], request_row["route"], request_row["status"]) == (
        "POST",
        "api/v1/cache/clear/",
        200,
    )


def test_it_is_newest_first_orders_on_request_and_pages(auditor_client):
    for n, days in enumerate((3, 1, 2)):
        _event(f"e{n}", days_ago=days)

    assert _actions(auditor_client.get(AUDIT)) == ["e1", "e2", "e0"]
    assert _actions(auditor_client.get(AUDIT, {"ordering": "at"})) == ["e0", "e2", "e1"]
    assert _actions(auditor_client.get(AUDIT, {"ordering": "id"})) == ["e0", "e1", "e2"]
    page = auditor_client.get(AUDIT, {"page_size": 2, "page": 2}).json()
    assert page["count"] == 3
    assert [row["action"] for row in page["results"]] == ["e0"]


def test_reading_it_is_not_recorded(auditor_client):
    auditor_client.get(AUDIT)

    assert not AuditEvent.objects.exists()
