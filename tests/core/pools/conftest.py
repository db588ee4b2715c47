from __future__ import annotations

import copy

import pytest
from django.db import connections

from apps.core.pools import database, hwa_http, redis


@pytest.fixture(autouse=True)
def _restore_pools():
    """A test may rebuild this process's pools; put the start-up pool back afterwards."""
    options = connections["default"].settings_dict.get("OPTIONS", {})
    saved = copy.deepcopy(options.get("pool"))
    saved_redis, saved_hwa = redis._values, hwa_http._values
    yield
    if saved is not None and options.get("pool") != saved:
        connections["default"].close()
        connections["default"].close_pool()
        options["pool"] = saved
    database.state.values = None
    if database.state.checker is not None:
        database.state.checker.set_interval(60)
    redis._values, hwa_http._values = saved_redis, saved_hwa
