from __future__ import annotations

import pytest

from apps.core.models import ConfigVersion, ConnectionPoolConfig
from apps.core.models.pools import MIN_GT_MAX
from apps.core.pools import hwa_http
from apps.core.pools.defaults import PRESETS
from apps.core.selectors.pools import hwa_http_pool_limits
from apps.core.services.pools import pool_config_apply
from apps.monitoring.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/config/pools/{}/"
FULL = {**PRESETS["recommended"], "max_waiting": 0}


def test_rows_exist_with_the_current_preset():
    row = ConnectionPoolConfig.objects.get(name="database")
    assert {k: v for k, v in row.values().items() if k != "max_waiting"} == PRESETS["current"]
    assert set(ConnectionPoolConfig.objects.values_list("name", flat=True)) == {
        "database",
        "redis",
        "hwa_http",
    }


def test_list_is_for_administrators(
    administrator_client, auditor_client, viewer_client, anon_client
):
    assert anon_client.get("/api/v1/config/pools/").status_code == 401
    assert viewer_client.get("/api/v1/config/pools/").status_code == 403
    assert auditor_client.get("/api/v1/config/pools/").status_code == 403
    response = administrator_client.get("/api/v1/config/pools/")
    assert response.status_code == 200
    assert [row["name"] for row in response.json()] == ["database", "redis", "hwa_http"]


def test_administrators_edit_and_the_model_permission_alone_is_not_enough(administrator_client):
    from django.contrib.auth.models import Permission

    from tests.conftest import _client_for
    from tests.factories import UserFactory

    modeller = UserFactory(username="modeller", is_staff=True)
    modeller.user_permissions.add(Permission.objects.get(codename="change_connectionpoolconfig"))
    assert _client_for(modeller).patch(URL.format("redis"), {"max_size": 25}).status_code == 403
    response = administrator_client.patch(URL.format("redis"), {"max_size": 25})
    assert response.status_code == 200


def test_put_replaces_validates_audits_and_bumps_the_version(admin_client_api, admin_user):
    response = admin_client_api.put(URL.format("database"), FULL)
    assert response.status_code == 200
    assert response.json()["max_size"] == 30
    assert ConnectionPoolConfig.objects.get(name="database").max_size == 30
    event = AuditEvent.objects.get(action="pool_config.update")
    assert event.actor == admin_user
    assert event.source == "api"
    assert event.target == "pool:database"
    assert event.before["max_size"] == 20
    assert event.after["max_size"] == 30
    assert ConfigVersion.objects.get(name="pools").version == 1


def test_put_needs_every_field(admin_client_api):
    response = admin_client_api.put(URL.format("database"), {"max_size": 30})
    assert response.status_code == 400
    assert "min_size" in response.json()["errors"]


def test_invalid_values_are_a_400_naming_the_field(admin_client_api):
    response = admin_client_api.patch(URL.format("database"), {"min_size": 25})
    assert response.status_code == 400
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert body["errors"] == {"min_size": [MIN_GT_MAX.format(min=25, max=20)]}
    assert not AuditEvent.objects.changes().exists()
    assert ConnectionPoolConfig.objects.get(name="database").min_size == 5


def test_wrong_types_and_unknown_fields_are_400(admin_client_api):
    assert admin_client_api.patch(URL.format("redis"), {"max_size": "many"}).status_code == 400
    response = admin_client_api.patch(URL.format("redis"), {"max_sise": 3})
    assert response.status_code == 400
    assert "max_sise" in response.json()["errors"]


def test_unknown_pool_is_404(admin_client_api):
    assert admin_client_api.get(URL.format("mongo")).status_code == 404
    assert admin_client_api.patch(URL.format("mongo"), {"max_size": 3}).status_code == 404


def test_a_missing_row_is_created_on_first_change(admin_client_api):
    ConnectionPoolConfig.objects.filter(name="hwa_http").delete()
    assert admin_client_api.get(URL.format("hwa_http")).json()["max_size"] == 20
    assert admin_client_api.patch(URL.format("hwa_http"), {"max_size": 8}).status_code == 200
    assert ConnectionPoolConfig.objects.get(name="hwa_http").max_size == 8


def test_stats_are_for_monitoring_readers(auditor_client, viewer_client):
    assert viewer_client.get("/api/v1/pools/stats/").status_code == 403
    body = auditor_client.get("/api/v1/pools/stats/").json()
    assert set(body["pools"]) == {"database", "redis", "hwa_http"}


def test_hwa_http_limits_follow_the_row(admin_client_api):
    heard: list[dict] = []
    hwa_http.on_change.append(heard.append)
    try:
        pool_config_apply(0)
        admin_client_api.patch(URL.format("hwa_http"), {"max_size": 7, "idle_timeout": 40})
        pool_config_apply(1)
    finally:
        hwa_http.on_change.remove(heard.append)
    assert hwa_http_pool_limits()["max_connections"] == 7
    assert heard[-1]["keepalive_expiry"] == 40.0
