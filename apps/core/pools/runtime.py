"""The config-version callback that gives each pool its values when they change."""

from __future__ import annotations

import logging
import os

from apps.core.pools import database, hwa_http, redis

logger = logging.getLogger(__name__)

AREA = "pools"


def process_id() -> int:
    return os.getpid()


def pools_apply(version: int) -> None:
    """Apply the saved values; each pool rebuilds only if its own values changed."""
    from apps.core.selectors.pools import pool_config_values

    values = pool_config_values()
    database.apply(values["database"], version)
    redis.apply(values["redis"], version)
    hwa_http.apply(values["hwa_http"], version)
