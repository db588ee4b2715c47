"""Preset values and the start-up defaults when no row exists.

`current` holds the settings Resync ran with before tuning (the measured baseline),
`recommended` the tuned ones (README, "Connection pools", has both tables). Rows are
created by migration 0004 with the `current` preset. If a row is missing (a fresh database
before migrating, a flushed test database), the database pool keeps the env start-up values
(DB_POOL_* in settings) and Redis and HWA HTTP use the `current` preset.
"""

from __future__ import annotations

import math

from django.conf import settings

POOL_NAMES = ("database", "redis", "hwa_http")

PRESETS: dict[str, dict[str, int]] = {
    "current": {
        "min_size": 5,
        "max_size": 20,
        "idle_timeout": 300,
        "connection_timeout": 30,
        "health_check_interval": 60,
        "max_lifetime": 1800,
    },
    "recommended": {
        "min_size": 3,
        "max_size": 30,
        "idle_timeout": 150,
        "connection_timeout": 20,
        "health_check_interval": 30,
        "max_lifetime": 3600,
    },
}
DEFAULT_MAX_WAITING = 0


def default_values(name: str) -> dict[str, int]:
    """The values a pool uses when it has no row."""
    values = {**PRESETS["current"], "max_waiting": DEFAULT_MAX_WAITING}
    if name == "database":
        env = settings.DATABASES["default"].get("OPTIONS", {}).get("pool") or {}
        if isinstance(env, dict) and env:
            values.update(
                min_size=int(env.get("min_size", values["min_size"])),
                max_size=int(env.get("max_size", values["max_size"])),
                connection_timeout=math.ceil(env.get("timeout", values["connection_timeout"])),
                idle_timeout=math.ceil(env.get("max_idle", values["idle_timeout"])),
                max_lifetime=math.ceil(env.get("max_lifetime", values["max_lifetime"])),
                max_waiting=int(env.get("max_waiting", DEFAULT_MAX_WAITING)),
            )
    return values
