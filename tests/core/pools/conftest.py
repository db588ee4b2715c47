from __future__ import annotations

import pytest
from django.db import connections

from apps.core.pools import database, hwa_http, redis


@pytest.fixture(autouse=True)
def _restore_pools():
    """A test may rebuild this process's pools; put the start-up pool back afterwards."""
    saved_redis, saved_hwa = redis._values, hwa_http._values
    yield
    if database.applied_values() is not None:
        # Django rebuilds its pool from the start-up OPTIONS["pool"] at the next use.
        connections["default"].close()
        connections["default"].close_pool()
    database.state.values = None
    if database.state.checker is not None:
        database.state.checker.set_interval(60)
    redis._values, hwa_http._values = saved_redis, saved_hwa
