"""Cache writes: change the configuration (validated, audited, applied live) and clear."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import caches
from django.db import transaction

from apps.cache.models import FIELDS, CacheConfig
from apps.cache.selectors import (
    DEFAULT_CONFIG,
    cache_config_values,
    cache_config_values_or_none,
    engine_settings,
)
from apps.core.config_versions import config_version_bump
from apps.core.errors import reject_unknown_fields
from apps.core.presets import PresetTarget
from apps.monitoring.services import audit_record

logger = logging.getLogger(__name__)

CONFIG_AREA = "cache"
PRESET_TARGET = "cache:default"

# `current`: the settings Resync ran with before tuning (the measured baseline);
# `recommended`: the tuned ones (both tables are in the README, "Cache").
PRESETS = {
    "current": {
        "ttl_seconds": 60,
        "cleanup_interval": 30,
        "max_memory_mb": 100,
        "max_entries": 100_000,
        "num_shards": 16,
    },
    "recommended": {
        "ttl_seconds": 300,
        "cleanup_interval": 60,
        "max_memory_mb": 256,
        "max_entries": 500_000,
        "num_shards": 32,
    },
}


@transaction.atomic
def cache_config_update(*, actor: Any, source: str, values: dict[str, Any]) -> CacheConfig:
    """Validate and save new settings, audit them, and apply them in every process.

    Raises Django's ValidationError (by field) for unknown or bad values; saves nothing then.
    """
    reject_unknown_fields(values, known=FIELDS)
    config = CacheConfig.objects.select_for_update().filter(name=DEFAULT_CONFIG).first()
    config = config or CacheConfig(name=DEFAULT_CONFIG)
    before = config.values()
    for field, value in values.items():
        setattr(config, field, value)
    config.full_clean()
    after = config.values()
    if config.pk is not None and after == before:
        return config
    config.save()
    audit_record(
        actor=actor,
        source=source,
        action="cache_config.update",
        target=PRESET_TARGET,
        before=before,
        after=after,
    )
    config_version_bump(CONFIG_AREA)
    return config


def cache_config_apply(version: int = 0) -> None:
    """The watcher callback: resize this process's engine to the saved settings.

    A DatabaseError (not migrated yet, the database is down) propagates: the watcher keeps
    the start-up settings and retries at its next check.
    """
    values = cache_config_values()
    engine = getattr(caches["default"], "engine", None)
    if engine is None:
        return
    engine.reconfigure(**engine_settings(values))
    logger.info("Cache configuration v%s applied: %s", version, values)


def cache_clear(*, actor: Any, source: str) -> int:
    """Empty the default cache (this process's memory tier and the shared Redis tier)."""
    cache = caches["default"]
    engine = getattr(cache, "engine", None)
    entries = len(engine) if engine is not None else 0
    cache.clear()
    audit_record(
        actor=actor,
        source=source,
        action="cache.clear",
        target=PRESET_TARGET,
        before={"entries_in_this_process": entries},
        after={"entries_in_this_process": 0},
    )
    return entries


def _apply_preset_values(values: dict[str, Any], *, actor: Any, source: str) -> CacheConfig:
    return cache_config_update(actor=actor, source=source, values=values)


PRESET = PresetTarget(
    name=PRESET_TARGET,
    presets=PRESETS,
    read=lambda: cache_config_values_or_none() or {},
    apply=_apply_preset_values,
)
