"""django-redis through the switching pool, on a real Redis."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache as default_cache

from apps.core.pools import redis as redis_pool
from apps.core.pools.defaults import PRESETS
from apps.core.selectors.pools import pool_stats

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")

# The default cache is tiered: its Redis tier (L2) is the django-redis cache whose pool
# this tests; going through it directly keeps the memory tier from answering instead.
cache = getattr(default_cache, "l2", default_cache)


def _default_cache_pool() -> redis_pool.SwitchingPool:
    pool = cache.client.get_client().connection_pool
    assert isinstance(pool, redis_pool.SwitchingPool)
    return pool


def test_a_change_switches_the_redis_pool_without_dropping_the_cache():
    cache.set("pools:key", "kept")
    redis_pool.apply({**PRESETS["current"], "max_size": 7, "max_waiting": 0}, version=201)
    assert cache.get("pools:key") == "kept"
    pool = _default_cache_pool()
    old = pool._pool
    assert old.max_connections == 7
    redis_pool.apply({**PRESETS["recommended"], "max_waiting": 0}, version=202)
    assert cache.get("pools:key") == "kept"
    assert pool._pool is not old
    assert pool._pool.max_connections == 30
    assert pool._pool.timeout == 20
    assert pool._pool.connection_kwargs["health_check_interval"] == 30


def test_redis_stats_count_acquisitions():
    redis_pool.apply({**PRESETS["current"], "max_waiting": 0}, version=203)
    before = pool_stats()["pools"]["redis"]["acquisitions"] if redis_pool._switching else 0
    for i in range(10):
        cache.set(f"pools:{i}", i)
    after = pool_stats()["pools"]["redis"]
    assert after["acquisitions"] >= before + 10
    assert after["size"] >= 1
    assert after["wait"]["p50_ms"] is not None
