"""GET /api/v1/alerts/: open and recent alerts for anyone who reads the plan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.monitoring.alerts.models import Alert
from tests.monitoring.alerts.conftest import make_rule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_default_rules")]
ALERTS = "/api/v1/alerts/"
NOW = timezone.now()


def _alert(name: str, *, severity: str = "warning", hours_ago: float, resolved_after=None):
    opened = NOW - timedelta(hours=hours_ago)
    resolved = opened + timedelta(hours=resolved_after) if resolved_after is not None else None
    return Alert.objects.create(
        rule=make_rule(name=name),
        rule_name=name,
        state="resolved" if resolved else "open",
        metric="jobs_in_error",
        comparison=">",
        threshold=0,
        severity=severity,
        value=3,
        last_value=3,
        summary=f"{name}: 3 jobs in Error",
        opened_at=opened,
        resolved_at=resolved,
    )


@pytest.fixture
def alerts():
    return {
        "old": _alert("old", hours_ago=48, resolved_after=1),
        "recent": _alert("recent", severity="critical", hours_ago=3, resolved_after=1),
        "open": _alert("open", hours_ago=30),
        "new": _alert("new", severity="info", hours_ago=1),
    }


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["rule"] for item in response.json()["results"]]


def test_open_alerts_come_first_then_the_most_recent(viewer_client, alerts):
    response = viewer_client.get(ALERTS)

    assert _names(response) == ["new", "open", "recent", "old"]
    first = response.json()["results"][0]
    assert first["state"] == "open"
    assert first["summary"] == "new: 3 jobs in Error"
    assert first["resolved_at"] is None


def test_filters_state_severity_and_since(viewer_client, alerts):
    since = (NOW - timedelta(hours=5)).isoformat()

    assert _names(viewer_client.get(ALERTS, {"state": "resolved"})) == ["recent", "old"]
    assert _names(viewer_client.get(ALERTS, {"severity": ["info", "CRITICAL"]})) == [
        "new",
        "recent",
    ]
    # Open at or after `since`: still open, or resolved since.
    assert _names(viewer_client.get(ALERTS, {"since": since})) == ["new", "open", "recent"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("viewer_client", 200),
        ("operator_client", 200),
        ("auditor_client", 403),
        ("anon_client", 401),
    ],
)
def test_viewers_and_up_may_read_alerts(request, persona, status):
    assert request.getfixturevalue(persona).get(ALERTS).status_code == status
