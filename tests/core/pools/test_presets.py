from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.core.models import ConnectionPoolConfig
from apps.core.pools.defaults import PRESETS
from apps.monitoring.models import AuditEvent

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:core_connectionpoolconfig_changelist")


def _values(name: str) -> dict:
    values = ConnectionPoolConfig.objects.get(name=name).values()
    values.pop("max_waiting")
    return values


def test_dry_run_shows_the_diff_and_changes_nothing():
    out = StringIO()
    call_command("apply_config_preset", "recommended", "--dry-run", stdout=out)
    assert "pool:database" in out.getvalue()
    assert "max_size" in out.getvalue()
    assert _values("database") == PRESETS["current"]
    assert not AuditEvent.objects.changes().exists()


def test_the_command_applies_every_pool_and_audits_each(admin_user):
    call_command("apply_config_preset", "recommended", "--as-user", "root", stdout=StringIO())
    for name in ("database", "redis", "hwa_http"):
        assert _values(name) == PRESETS["recommended"]
    events = AuditEvent.objects.filter(action="pool_config.update", source="command")
    assert sorted(e.target for e in events) == ["pool:database", "pool:hwa_http", "pool:redis"]
    assert all(e.actor == admin_user for e in events)
    out = StringIO()
    call_command("apply_config_preset", "current", stdout=out)
    assert _values("redis") == PRESETS["current"]


def test_admin_action_confirms_with_the_diff_then_applies(client, admin_user):
    client.force_login(admin_user)
    pks = list(ConnectionPoolConfig.objects.values_list("pk", flat=True))
    data = {"action": "apply_recommended_preset", "_selected_action": pks}
    page = client.post(CHANGELIST, data)
    assert page.status_code == 200
    assert b"pool:database" in page.content
    assert b"3600" in page.content
    assert _values("database") == PRESETS["current"]
    done = client.post(CHANGELIST, {**data, "confirm": "yes"}, follow=True)
    assert done.status_code == 200
    assert _values("database") == PRESETS["recommended"]
    # Only the pools: the cache has its own admin action.
    assert AuditEvent.objects.changes().filter(source="admin").count() == 3


def test_admin_edit_validates_and_audits(client, admin_user):
    client.force_login(admin_user)
    row = ConnectionPoolConfig.objects.get(name="redis")
    url = reverse("admin:core_connectionpoolconfig_change", args=[row.pk])
    form = {**row.values(), "min_size": 50}
    page = client.post(url, form)
    assert page.status_code == 200  # re-shown with the error
    assert b"must not exceed max_size" in page.content
    response = client.post(url, {**row.values(), "max_size": 24})
    assert response.status_code == 302
    event = AuditEvent.objects.changes().get(source="admin")
    assert (event.before["max_size"], event.after["max_size"]) == (20, 24)
