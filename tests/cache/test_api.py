"""Cache API: configuration (administrators), statistics (monitoring), clearing (audited)."""

from __future__ import annotations

import pytest
from django.core.cache import cache, caches

from apps.cache.models import OUT_OF_RANGE, RANGES
from apps.cache.services import PRESETS
from apps.core.config_versions import watcher
from apps.monitoring.models import AuditEvent

pytestmark = pytest.mark.django_db

CONFIG = "/api/v1/config/cache/"
STATS = "/api/v1/cache/stats/"
CLEAR = "/api/v1/cache/clear/"


@pytest.fixture(autouse=True)
def _restore_engine():
    engine = caches["default"].engine
    before = engine.config()
    yield
    engine.reconfigure(**before)
    watcher.reset()


def test_only_administrators_read_or_change_the_configuration(
    viewer_client, operator_client, auditor_client
):
    assert viewer_client.get(CONFIG).status_code == 403
    assert operator_client.get(CONFIG).status_code == 403
    assert auditor_client.get(CONFIG).status_code == 403
    assert auditor_client.put(CONFIG, PRESETS["recommended"]).status_code == 403
    assert not AuditEvent.objects.changes().exists()


def test_an_administrator_reads_and_replaces_the_configuration(administrator_client, administrator):
    body = administrator_client.get(CONFIG).json()
    assert {k: body[k] for k in PRESETS["current"]} == PRESETS["current"]
    response = administrator_client.put(CONFIG, PRESETS["recommended"])
    assert response.status_code == 200
    assert {k: response.json()[k] for k in PRESETS["recommended"]} == PRESETS["recommended"]
    event = AuditEvent.objects.changes().get()
    assert (event.actor, event.source, event.after) == (
        administrator,
        "api",
        PRESETS["recommended"],
    )


def test_a_bad_value_is_a_400_naming_the_field(admin_client_api):
    response = admin_client_api.patch(CONFIG, {"num_shards": 300})
    assert response.status_code == 400
    low, high = RANGES["num_shards"]
    assert response.json()["errors"] == {"num_shards": [OUT_OF_RANGE.format(low=low, high=high)]}
    response = admin_client_api.patch(CONFIG, {"ttl_seconds": "soon"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["ttl_seconds"]
    response = admin_client_api.put(CONFIG, {"ttl_seconds": 10})  # PUT needs every field
    assert response.status_code == 400
    assert "num_shards" in response.json()["errors"]
    assert not AuditEvent.objects.changes().exists()


def test_monitoring_readers_see_per_tier_and_per_shard_statistics(viewer_client, auditor_client):
    assert viewer_client.get(STATS).status_code == 403
    cache.set("seen", 1)
    cache.get("seen")
    cache.get("never")
    body = auditor_client.get(STATS).json()
    l1 = body["tiers"]["l1"]
    assert len(l1["shards"]) == l1["config"]["num_shards"]
    for name in (
        "entries",
        "bytes",
        "max_bytes",
        "max_entries",
        "hits",
        "misses",
        "hit_rate",
        "evictions_memory",
        "evictions_entries",
        "expirations",
    ):
        assert name in l1["total"]
    assert l1["total"]["hits"] >= 1
    assert l1["total"]["entries"] >= 1
    if body["backend"] == "TieredCache":
        assert {"hits", "misses", "errors", "hit_rate"} <= set(body["tiers"]["l2"])


def test_only_administrators_clear_the_cache_and_it_is_audited(
    auditor_client, administrator_client
):
    cache.set("doomed", 1)
    assert auditor_client.post(CLEAR).status_code == 403
    assert cache.get("doomed") == 1
    response = administrator_client.post(CLEAR)
    assert response.status_code == 200
    assert cache.get("doomed") is None
    assert AuditEvent.objects.changes().get().action == "cache.clear"
