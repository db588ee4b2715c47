"""manage.py health: the same report on the terminal, non-zero when unhealthy."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.monitoring import health
from apps.monitoring.health import UNHEALTHY, HealthCheck
from apps.monitoring.management.commands.health import UNHEALTHY_EXIT

pytestmark = pytest.mark.django_db


def _health(*args: str) -> str:
    out = StringIO()
    call_command("health", *args, stdout=out)
    return out.getvalue()


def test_it_prints_each_component_and_succeeds_when_healthy():
    lines = _health().splitlines()

    assert lines[0] == "healthy"
    assert [line.split()[:2] for line in lines[1:]] == [[name, "healthy"] for name in health.CHECKS]


def test_it_fails_naming_the_unhealthy_components(monkeypatch):
    def refused() -> None:
        raise RuntimeError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", HealthCheck(refused, UNHEALTHY, ready=True))
    out = StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("health", stdout=out)

    assert str(failed.value) == UNHEALTHY_EXIT.format(components="database")
    assert "connection refused" in out.getvalue()


def test_ready_and_json_give_the_readiness_report_as_the_endpoint_does():
    report = json.loads(_health("--ready", "--json"))

    assert report["status"] == "healthy"
    assert set(report["components"]) == {"database", "cache", "migrations", "sync_heartbeat"}
