"""Reads of pool configuration and live pool figures."""

from __future__ import annotations

import os
from typing import Any

from apps.core.config_versions import watcher
from apps.core.errors import NotFoundError
from apps.core.models import ConnectionPoolConfig
from apps.core.pools import CONFIG_AREA, database, hwa_http, redis
from apps.core.pools.defaults import POOL_NAMES, default_values

UNKNOWN_POOL = "No pool named {name!r}; pools: database, redis, hwa_http."


def pool_config_values() -> dict[str, dict[str, int]]:
    """Every pool's saved values (defaults for a pool without a row)."""
    rows = {row.name: row.values() for row in ConnectionPoolConfig.objects.all()}
    return {name: rows.get(name) or default_values(name) for name in POOL_NAMES}


def pool_config_get(*, name: str) -> ConnectionPoolConfig:
    """The row for `name` (unsaved, with defaults, when there is none yet)."""
    if name not in POOL_NAMES:
        raise NotFoundError(UNKNOWN_POOL.format(name=name))
    row = ConnectionPoolConfig.objects.filter(name=name).first()
    return row or ConnectionPoolConfig(name=name, **default_values(name))


def pool_config_list() -> list[ConnectionPoolConfig]:
    return [pool_config_get(name=name) for name in POOL_NAMES]


def hwa_http_pool_limits() -> dict[str, Any]:
    """The httpx limits the HWA client should use now: those this process applied, or the
    saved row's before the first apply (a client built before the first request)."""
    values = hwa_http.applied_values() or pool_config_values()["hwa_http"]
    return hwa_http.limits_from(values)


# Every pool reports these keys; a figure its library cannot measure is null (see "note").
STAT_FIELDS = (
    "size",
    "in_use",
    "idle",
    "waiting",
    "acquisitions",
    "hits",
    "misses",
    "queued",
    "exhaustions",
    "connections_created",
    "connections_closed",
    "connections_lost",
    "errors",
    "wait",
    "note",
)


def _uniform(config: dict | None, figures: dict[str, Any]) -> dict[str, Any]:
    return {"config": config, **dict.fromkeys(STAT_FIELDS), **figures}


def pool_stats() -> dict[str, Any]:
    """This process's pools: the settings it runs with and live figures."""
    return {
        "pid": os.getpid(),
        "config_version": watcher.seen(CONFIG_AREA),
        "pools": {
            "database": _uniform(database.applied_values(), database.stats()),
            "redis": _uniform(redis.applied_values(), redis.stats()),
            "hwa_http": _uniform(hwa_http.applied_values(), hwa_http.stats()),
        },
    }
