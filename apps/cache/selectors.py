"""Cache reads: the configuration in force and the statistics of every tier."""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django.db import DatabaseError

from apps.cache.models import FIELDS, CacheConfig

DEFAULT_CONFIG = "default"


def cache_config_get() -> CacheConfig:
    """The saved configuration, or an unsaved one holding the defaults."""
    return CacheConfig.objects.filter(name=DEFAULT_CONFIG).first() or CacheConfig()


def cache_config_values() -> dict[str, int]:
    """The five settings in force, as saved (defaults until the first change)."""
    return cache_config_get().values()


def cache_config_values_or_none() -> dict[str, int] | None:
    """As cache_config_values, but None when the database cannot be read (start-up)."""
    try:
        return cache_config_values()
    except DatabaseError:
        return None


def engine_settings(values: dict[str, int]) -> dict[str, Any]:
    """Engine reconfigure() arguments from CacheConfig values."""
    return {
        "ttl_seconds": values["ttl_seconds"],
        "cleanup_interval": values["cleanup_interval"],
        "max_memory_bytes": values["max_memory_mb"] * 1024 * 1024,
        "max_entries": values["max_entries"],
        "num_shards": values["num_shards"],
    }


def cache_stats(alias: str = "default") -> dict[str, Any]:
    """Per tier and shard: entries, bytes, bounds, hits, misses, hit rate, evictions, errors."""
    cache = caches[alias]
    stats = cache.stats() if hasattr(cache, "stats") else {}
    l1 = stats.get("l1", stats) if stats else None
    body: dict[str, Any] = {"backend": type(cache).__name__, "tiers": {}}
    if l1:
        body["tiers"]["l1"] = {
            "config": l1["config"],
            "total": _with_hit_rate(l1["total"]),
            "shards": [
                {"index": i, **_with_hit_rate(shard)} for i, shard in enumerate(l1["shards"])
            ],
        }
    if "l2" in stats:
        body["tiers"]["l2"] = _with_hit_rate(stats["l2"])
    return body


def _with_hit_rate(counters: dict[str, Any]) -> dict[str, Any]:
    lookups = counters["hits"] + counters["misses"]
    return {**counters, "hit_rate": round(counters["hits"] / lookups, 4) if lookups else None}


__all__ = [
    "FIELDS",
    "cache_config_get",
    "cache_config_values",
    "cache_config_values_or_none",
    "cache_stats",
    "engine_settings",
]
