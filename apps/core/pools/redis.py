"""The Redis pool: django-redis connections through a pool that can be rebuilt live.

django-redis caches one redis-py client per cache backend *per thread* (Django's caches are
thread-local), each bound to the connection pool its ConnectionFactory returned. So rather
than reset every thread's client, our factory (settings.DJANGO_REDIS_CONNECTION_FACTORY)
returns a SwitchingPool per URL: a stand-in that hands out connections from the pool of the
current configuration version and returns each connection to the pool it came from. On a
change the next acquisition uses a new redis-py BlockingConnectionPool; the old one is
disconnected after in-flight commands had time to finish (RETIRE_AFTER_S).

Mapping: max_size -> max_connections, connection_timeout -> the wait for a free connection
(BlockingConnectionPool timeout), health_check_interval -> redis-py's health_check_interval
(PING before using a connection idle that long). redis-py opens connections on demand and
has no idle timeout or lifetime: min_size, idle_timeout, max_lifetime and max_waiting are
not applied to Redis.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

from django_redis.pool import ConnectionFactory
from redis.connection import BlockingConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.core.pools.samples import WaitSamples

RETIRE_AFTER_S = 10.0
NO_CONNECTION_AVAILABLE = "No connection available."

samples = WaitSamples()
_lock = threading.Lock()
_values: dict[str, int] | None = None
_generation = 0
_switching: weakref.WeakSet[SwitchingPool] = weakref.WeakSet()
_counters = {"errors": 0}


def pool_kwargs(values: dict[str, int]) -> dict[str, Any]:
    return {
        "max_connections": values["max_size"],
        "timeout": values["connection_timeout"],
        "health_check_interval": values["health_check_interval"],
    }


def applied_values() -> dict[str, int] | None:
    """The pool row values this process runs with (None before the first apply)."""
    return dict(_values) if _values is not None else None


def apply(values: dict[str, int], version: int) -> None:
    """Use `values` for every Redis connection acquired from now on."""
    global _values, _generation
    with _lock:
        if _values == values:
            return
        _values = dict(values)
        _generation += 1
        pools = list(_switching)
    for pool in pools:
        pool.switch()


class SwitchingPool:
    """Stands in for a redis-py pool; delegates to the pool of the current settings."""

    def __init__(self, build) -> None:
        self._build = build
        self._pool = None
        self._generation = -1
        self._lock = threading.Lock()
        _switching.add(self)

    def current(self):
        if self._generation != _generation or self._pool is None:
            self.switch()
        return self._pool

    def switch(self) -> None:
        with self._lock:
            if self._generation == _generation and self._pool is not None:
                return
            old, self._pool = self._pool, self._build(_values)
            self._generation = _generation
        if old is not None:
            timer = threading.Timer(RETIRE_AFTER_S, old.disconnect)
            timer.daemon = True
            timer.start()

    def get_connection(self, *args, **kwargs):
        pool = self.current()
        started = time.perf_counter()
        samples.enter()
        try:
            conn = pool.get_connection(*args, **kwargs)
        except RedisConnectionError as exc:
            if str(exc) == NO_CONNECTION_AVAILABLE:
                samples.exhausted()
            else:
                with _lock:
                    _counters["errors"] += 1
            raise
        finally:
            samples.leave()
        samples.record((time.perf_counter() - started) * 1000, conn)
        conn._resync_pool = pool
        return conn

    def release(self, connection) -> None:
        (getattr(connection, "_resync_pool", None) or self.current()).release(connection)

    def __getattr__(self, name: str):
        # Everything else (connection_kwargs, get_encoder, get_protocol...) is the current pool's.
        return getattr(self.current(), name)

    def figures(self) -> dict[str, int]:
        pool = self._pool
        if pool is None:
            return {"size": 0, "idle": 0}
        created = len(pool._connections)
        idle = sum(1 for conn in list(pool.pool.queue) if conn is not None)
        return {"size": created, "idle": idle}


class VersionedConnectionFactory(ConnectionFactory):
    """django-redis connection factory whose pools follow ConnectionPoolConfig 'redis'."""

    def get_or_create_connection_pool(self, params: dict[str, Any]):
        key = params["url"]
        if key not in self._pools:
            self._pools[key] = SwitchingPool(lambda values: self._build_pool(params, values))
        return self._pools[key]

    def _build_pool(self, params: dict[str, Any], values: dict[str, int] | None):
        cp_params = dict(params)
        cp_params.update(self.pool_cls_kwargs)
        if values is not None:
            cp_params.update(pool_kwargs(values))
        pool = BlockingConnectionPool.from_url(**cp_params)
        if pool.connection_kwargs.get("password") is None and params.get("password"):
            pool.connection_kwargs["password"] = params["password"]
            pool.reset()
        return pool


def stats() -> dict[str, Any]:
    pools = list(_switching)
    if not pools:
        return {"note": "No Redis cache in use in this process: no pool figures."}
    size = idle = 0
    for pool in pools:
        figures = pool.figures()
        size += figures["size"]
        idle += figures["idle"]
    return {
        "size": size,
        "in_use": size - idle,
        "idle": idle,
        "waiting": samples.waiting,
        "acquisitions": samples.acquisitions,
        "hits": samples.acquisitions - samples.new_connections,
        "misses": samples.new_connections,
        "queued": None,
        "exhaustions": samples.exhaustions,
        "connections_created": samples.new_connections,
        "connections_closed": samples.new_connections - size,
        "connections_lost": None,
        "errors": _counters["errors"],
        "wait": samples.summary(),
        "note": "misses = acquisitions that got a new connection (redis-py opens them on "
        "demand). redis-py reports neither lost connections nor queueing: null.",
    }
