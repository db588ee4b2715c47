"""CacheConfig: validation in one place, audit, presets, admin action and live apply."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.management import call_command

from apps.cache import services
from apps.cache.models import (
    FEWER_ENTRIES_THAN_SHARDS,
    OUT_OF_RANGE,
    RANGES,
    SHARDS_TOO_SMALL,
    CacheConfig,
    ram_mb,
)
from apps.cache.selectors import cache_config_values, engine_settings
from apps.core.config_versions import watcher
from apps.core.models import ConfigVersion
from apps.monitoring.models import AuditEvent

pytestmark = pytest.mark.django_db

CURRENT = services.PRESETS["current"]
RECOMMENDED = services.PRESETS["recommended"]


@pytest.fixture(autouse=True)
def engine():
    # The default cache's engine lives for the whole test process: put it back after.
    live = caches["default"].engine
    before = live.config()
    yield live
    live.reconfigure(**before)
    watcher.reset()


def update(actor=None, **values) -> CacheConfig:
    return services.cache_config_update(actor=actor, source="api", values=values)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ttl_seconds", 0),
        ("cleanup_interval", 0),
        ("cleanup_interval", 3601),
        ("max_memory_mb", 0),
        ("max_entries", 0),
        ("num_shards", 0),
        ("num_shards", 257),
    ],
)
def test_it_rejects_out_of_range_settings_naming_the_field(field, value):
    low, high = RANGES[field]
    with pytest.raises(ValidationError) as info:
        update(**{field: value})
    assert info.value.message_dict == {field: [OUT_OF_RANGE.format(low=low, high=high)]}
    assert not AuditEvent.objects.changes().exists()


def test_it_rejects_more_memory_than_half_the_ram():
    with pytest.raises(ValidationError) as info:
        update(max_memory_mb=ram_mb())
    assert list(info.value.message_dict) == ["max_memory_mb"]


def test_it_rejects_fewer_entries_than_shards_and_tiny_shards():
    with pytest.raises(ValidationError) as info:
        update(max_entries=10, num_shards=32)
    assert info.value.message_dict["max_entries"] == [FEWER_ENTRIES_THAN_SHARDS.format(shards=32)]
    with pytest.raises(ValidationError) as info:
        update(max_memory_mb=1, num_shards=256)
    assert info.value.message_dict["num_shards"] == [SHARDS_TOO_SMALL.format(minimum=64)]


def test_an_update_is_audited_with_before_and_after_and_bumps_the_cache_version(admin_user):
    update(actor=admin_user, ttl_seconds=600)
    event = AuditEvent.objects.changes().get()
    assert event.action == "cache_config.update"
    assert event.target == "cache:default"
    assert event.actor == admin_user
    assert event.before == CURRENT
    assert event.after == {**CURRENT, "ttl_seconds": 600}
    assert ConfigVersion.objects.get(name="cache").version == 1


def test_an_update_that_changes_nothing_records_nothing():
    update(**CURRENT)
    assert not AuditEvent.objects.changes().exists()
    assert not ConfigVersion.objects.filter(name="cache").exists()


def test_the_preset_command_shows_the_diff_then_applies_it_with_an_audit(capsys):
    call_command("apply_config_preset", "recommended", "--dry-run")
    out = capsys.readouterr().out
    assert "cache:default" in out
    assert "num_shards" in out
    assert "-> 32" in out
    assert cache_config_values() == CURRENT
    call_command("apply_config_preset", "recommended")
    assert cache_config_values() == RECOMMENDED
    event = AuditEvent.objects.get(action="cache_config.update")
    assert (event.source, event.before, event.after) == ("command", CURRENT, RECOMMENDED)


def test_the_admin_action_shows_the_diff_before_applying(client, admin_user):
    client.force_login(admin_user)
    row = CacheConfig.objects.get(name="default")
    url = "/admin/resync_cache/cacheconfig/"
    form = {"action": "apply_recommended_preset", "_selected_action": [row.pk]}
    page = client.post(url, form)
    assert page.status_code == 200
    assert b"max_entries" in page.content
    assert b"500000" in page.content
    assert cache_config_values() == CURRENT  # nothing applied yet
    done = client.post(url, {**form, "confirm": "yes"})
    assert done.status_code == 302
    assert cache_config_values() == RECOMMENDED
    assert AuditEvent.objects.changes().get().source == "admin"


def test_a_saved_change_is_applied_to_this_process_engine_by_the_watcher(engine):
    for i in range(2000):
        engine.set(f"live:{i}", "x" * 1000)
    update(max_memory_mb=1, num_shards=8, max_entries=1000, ttl_seconds=120)
    watcher.reset()
    watcher.poll(force=True)
    config = engine.config()
    assert config == {**engine_settings(cache_config_values()), "num_shards": 8}
    stats = engine.stats()["total"]
    assert stats["bytes"] <= 1024 * 1024  # shrinking evicted down at once
    assert stats["entries"] <= 1000
    assert engine.ttl_seconds == 120


def test_changing_shards_live_keeps_every_live_entry(engine):
    engine.clear()
    for i in range(500):
        engine.set(f"keep:{i}", i)
    update(num_shards=64)
    watcher.reset()
    watcher.poll(force=True)
    assert engine.config()["num_shards"] == 64
    assert all(engine.get(f"keep:{i}") == i for i in range(500))
