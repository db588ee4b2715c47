"""The PostgreSQL pool: Django's native psycopg pool, rebuilt live from ConnectionPoolConfig.

Django creates its pool lazily (`DatabaseWrapper.pool`, cached per alias in the class-level
`_connection_pools`) from OPTIONS["pool"]. To apply new settings without a restart we build
a pool the same way Django does (same connect kwargs, `configure` and `check`) and put it in
that cache; Django then takes every new connection from it, and reads OPTIONS["pool"] again
only if the pool is closed (a test's settings change, test database set-up). OPTIONS["pool"]
is settings.DATABASES's own dict (the connection holds it, not a copy), so it keeps the
start-up values that checks and defaults read; the values applied live are `state.values`,
and every pool built here (at a change, the first request, after an outage) uses them.

The retired pool is not closed at once: connections in flight go back to the pool they came
from (Django returns them with `connection._pool.putconn`), and the old pool is closed in a
background thread once none is out (or after RETIRE_DEADLINE_S). A caller that raced the
swap and finds the old pool closed is handed to its successor, so a change never fails a
request.

health_check_interval: psycopg_pool has no periodic check of its own, so one daemon thread
per process calls `pool.check()` (tests every idle connection, replaces broken ones) every
health_check_interval seconds. We do not check on every getconn (an extra round trip per
request); CONN_HEALTH_CHECKS still adds Django's per-getconn check if set.

Outages: every pool built here opens its connections through `_ObservedConnection`, whose
failed attempt trips the process's `breaker` (apps/core/pools/outage.py); while it is open
`getconn` fails at once instead of waiting. On the request path (`request_deadline`, set by
DatabaseUnavailableMiddleware from settings.DB_REQUEST_TIMEOUT) a wait for a connection is
also capped at that deadline, whatever the pool row's connection_timeout (which background
work keeps). `ensure_pool` puts such a pool in place at the first request, before the pool
row could be read (it cannot while the database is down).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import psycopg
from django.db import connections
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout, TooManyRequests

from apps.core.pools.outage import DatabaseUnavailable, OutageBreaker
from apps.core.pools.samples import WaitSamples

logger = logging.getLogger(__name__)

ALIAS = "default"
RETIRE_DEADLINE_S = 60.0
# libpq rounds connect_timeout up to 2 s; a refused connection fails at once anyway.
PROBE_CONNECT_TIMEOUT_S = 2
# SQLSTATEs of a server going away: admin shutdown, crash shutdown, cannot connect now.
SERVER_GONE = ("57P01", "57P02", "57P03")
# A server out of connection slots is up and serving the connections we hold: no outage.
SERVER_FULL = ("too many clients", "remaining connection slots")
# psycopg_pool counters that add up across pool generations.
COUNTERS = (
    "requests_num",
    "requests_queued",
    "requests_wait_ms",
    "requests_errors",
    "usage_ms",
    "returns_bad",
    "connections_num",
    "connections_ms",
    "connections_errors",
    "connections_lost",
)

samples = WaitSamples()
_request_wait: ContextVar[float | None] = ContextVar("resync_db_request_wait", default=None)


@contextmanager
def request_deadline(seconds: float) -> Iterator[None]:
    """Within this block, wait at most `seconds` for a pooled connection (the request path)."""
    outer = _request_wait.get()
    token = _request_wait.set(seconds if outer is None else min(seconds, outer))
    try:
        yield
    finally:
        _request_wait.reset(token)


def _wait_limit(timeout: float) -> float:
    limit = _request_wait.get()
    return timeout if limit is None else min(timeout, limit)


class TimedConnectionPool(ConnectionPool):
    """A psycopg pool that fails fast during an outage, caps request waits, times each
    acquisition and hands late callers to its successor."""

    successor: ConnectionPool | None = None

    def getconn(self, timeout: float | None = None):
        breaker.check()
        timeout = _wait_limit(self.timeout if timeout is None else timeout)
        started = time.perf_counter()
        samples.enter()
        try:
            conn = super().getconn(timeout)
        except PoolClosed:
            successor = self.successor
            if successor is None:
                raise
            return successor.getconn(timeout)
        except (PoolTimeout, TooManyRequests) as exc:
            if breaker.is_open:  # the database went down while we waited: not a busy pool
                raise DatabaseUnavailable(breaker.reason()) from exc
            samples.exhausted()
            raise
        finally:
            samples.leave()
        samples.record((time.perf_counter() - started) * 1000, conn)
        return conn


class _ObservedConnection(psycopg.Connection):
    """The pool's connection class: a failed attempt to connect trips the breaker."""

    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any):
        try:
            return super().connect(conninfo, **kwargs)
        except psycopg.OperationalError as exc:
            if not any(text in str(exc) for text in SERVER_FULL):
                breaker.trip(exc)
            raise


def is_connection_failure(exc: BaseException) -> bool:
    """True for a psycopg error meaning the server is unreachable or went away, as opposed
    to a statement that failed (or a pool that is merely busy)."""
    if isinstance(exc, DatabaseUnavailable):
        return True
    if not isinstance(exc, psycopg.OperationalError) or isinstance(
        exc, PoolTimeout | TooManyRequests
    ):
        return False
    sqlstate = exc.sqlstate  # None: the error came from the client side (socket, libpq)
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in SERVER_GONE


class _State:
    """What this process applied, the retiring pools and the carried-over counters."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: dict[str, int] | None = None
        self.retiring: list[ConnectionPool] = []
        self.carried = dict.fromkeys(COUNTERS, 0)
        self.checker: _HealthChecker | None = None


state = _State()


def applied_values() -> dict[str, int] | None:
    """The pool row values this process runs with (None before the first apply)."""
    return dict(state.values) if state.values is not None else None


def is_pooled() -> bool:
    """True when the database uses Django's psycopg pool (PostgreSQL with OPTIONS["pool"])."""
    return bool(connections[ALIAS].settings_dict.get("OPTIONS", {}).get("pool"))


def pool_kwargs(values: dict[str, int]) -> dict[str, Any]:
    """ConnectionPoolConfig values as psycopg_pool.ConnectionPool keyword arguments."""
    return {
        "min_size": values["min_size"],
        "max_size": values["max_size"],
        "timeout": float(values["connection_timeout"]),
        "max_idle": float(values["idle_timeout"]),
        "max_lifetime": float(values["max_lifetime"]),
        "max_waiting": values["max_waiting"],
    }


def current_pool() -> ConnectionPool | None:
    return connections[ALIAS].pool


def _installed_pool() -> ConnectionPool | None:
    return type(connections[ALIAS])._connection_pools.get(ALIAS)


def apply(values: dict[str, int], version: int) -> None:
    """Rebuild the pool with `values` (only if they differ from what this process runs)."""
    if not is_pooled():
        return
    with state.lock:
        if state.values == values and isinstance(current_pool(), TimedConnectionPool):
            return
        kwargs = pool_kwargs(values)
        _install(kwargs, f"resync-{ALIAS}-v{version}")
        state.values = dict(values)
        if state.checker is None:
            state.checker = _HealthChecker()
            state.checker.start()
        state.checker.set_interval(values["health_check_interval"])
    logger.info("Database pool rebuilt: %s", kwargs)


def ensure_pool() -> None:
    """Serve from a TimedConnectionPool from the first request on (start-up settings until
    the pool row is applied): Django's own pool would wait its full timeout in an outage."""
    if not is_pooled() or isinstance(_installed_pool(), TimedConnectionPool):
        return
    with state.lock:
        if not isinstance(_installed_pool(), TimedConnectionPool):
            _install(_live_kwargs(), f"resync-{ALIAS}-start")


def _live_kwargs() -> dict[str, Any]:
    """The pool arguments in force: the applied row's, or the start-up OPTIONS["pool"]."""
    if state.values is not None:
        return pool_kwargs(state.values)
    startup = connections[ALIAS].settings_dict["OPTIONS"]["pool"]
    return dict(startup) if isinstance(startup, dict) else {}


def _install(kwargs: dict[str, Any], name: str, retire_after: float = RETIRE_DEADLINE_S) -> None:
    """Build a pool like Django's, put it in Django's cache and retire the one it replaces.
    The caller holds state.lock."""
    wrapper = connections[ALIAS]
    connect_kwargs = wrapper.get_connection_params()
    connect_kwargs["autocommit"] = True  # as Django does; it sets autocommit later
    checks = wrapper.settings_dict["CONN_HEALTH_CHECKS"]
    new = TimedConnectionPool(
        kwargs=connect_kwargs,
        connection_class=_ObservedConnection,
        open=False,
        configure=wrapper._configure_connection,
        check=ConnectionPool.check_connection if checks else None,
        name=name,
        **kwargs,
    )
    new.open(wait=False)  # min_size connections are opened in the background
    pools = type(wrapper)._connection_pools
    old = pools.get(ALIAS)
    if isinstance(old, TimedConnectionPool):
        old.successor = new
    pools[ALIAS] = new
    if old is not None:
        state.retiring.append(old)
        threading.Thread(target=_retire, args=(old, retire_after), daemon=True).start()


def _probe() -> None:
    """One direct connection and query, outside any pool (the breaker's prober calls it)."""
    params = {**connections[ALIAS].get_connection_params(), "autocommit": True}
    params["connect_timeout"] = PROBE_CONNECT_TIMEOUT_S
    with psycopg.connect(**params) as conn:
        conn.execute("SELECT 1")


def _recover() -> None:
    """The database answers again: replace the pool, whose reconnection attempts are still
    backing off (and whose idle connections died with the server)."""
    with state.lock:
        _install(_live_kwargs(), f"resync-{ALIAS}-recovered", retire_after=0)
    logger.info("Database pool rebuilt after an outage")


breaker = OutageBreaker(probe=_probe, recover=_recover)


class OutageLogFilter(logging.Filter):
    """Drops django.request's error line for each 503 answered while the breaker is open.

    The breaker logs the outage once when it opens and once when it closes; a line per
    refused request would flood the log for as long as the outage lasts."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (getattr(record, "status_code", None) == 503 and breaker.is_open)


def _retire(old: ConnectionPool, retire_after: float = RETIRE_DEADLINE_S) -> None:
    """Close `old` once its connections are back and nobody waits on it (or after
    `retire_after` seconds; connections still out then close when they come back)."""
    deadline = time.monotonic() + retire_after
    time.sleep(0.5)  # let callers that read the old pool reach its queue
    while time.monotonic() < deadline:
        stats = old.get_stats()
        out = stats.get("pool_size", 0) - stats.get("pool_available", 0)
        if out <= 0 and stats.get("requests_waiting", 0) == 0:
            break
        time.sleep(0.05)
    try:
        old.close(timeout=5.0)
    finally:
        with state.lock:
            final = old.get_stats()
            for key in COUNTERS:
                state.carried[key] += final.get(key, 0)
            if old in state.retiring:
                state.retiring.remove(old)


class _HealthChecker(threading.Thread):
    """Runs pool.check() on the current pool every health_check_interval seconds."""

    def __init__(self) -> None:
        super().__init__(name="resync-db-pool-check", daemon=True)
        self.interval = 60
        self.checks = 0
        self._changed = threading.Event()

    def set_interval(self, seconds: int) -> None:
        if seconds != self.interval:
            self.interval = seconds
            self._changed.set()  # restart the wait with the new interval

    def run(self) -> None:
        while True:
            if self._changed.wait(self.interval):
                self._changed.clear()
                continue
            pool = _installed_pool()
            if pool is None or pool.closed:
                continue
            try:
                pool.check()
                self.checks += 1
            except Exception as exc:  # a check must never kill the thread
                logger.warning("Database pool check failed: %s", exc)


def stats() -> dict[str, Any]:
    """Live figures of the database pool (all generations since the process started)."""
    if not is_pooled():
        return {"note": "The database is not PostgreSQL with a pool: no pool figures."}
    pool = _installed_pool()
    with state.lock:
        pools = [p for p in [pool, *state.retiring] if p is not None]
        totals = dict(state.carried)
        size = idle = waiting = 0
        for p in pools:
            s = p.get_stats()
            for key in COUNTERS:
                totals[key] += s.get(key, 0)
            size += s.get("pool_size", 0)
            idle += s.get("pool_available", 0)
            waiting += s.get("requests_waiting", 0)
    timed = isinstance(pool, TimedConnectionPool)
    outage = breaker.snapshot()
    return {
        "size": size,
        "in_use": size - idle,
        "idle": idle,
        "waiting": waiting,
        "acquisitions": totals["requests_num"],
        # Counted by TimedConnectionPool: a miss got a connection never handed out before.
        "hits": samples.acquisitions - samples.new_connections if timed else None,
        "misses": samples.new_connections if timed else None,
        "queued": totals["requests_queued"],
        "exhaustions": samples.exhaustions,
        "connections_created": totals["connections_num"],
        "connections_closed": totals["connections_num"] - size,
        "connections_lost": totals["connections_lost"],
        "errors": totals["requests_errors"] + totals["connections_errors"] + totals["returns_bad"],
        "wait": samples.summary() if timed else {"p50_ms": None, "max_ms": None, "samples": 0},
        "health_checks": state.checker.checks if state.checker else 0,
        "outage": {
            "database_down": outage.open,
            "since": outage.opened_at,
            "last_error": outage.last_error,
            "outages": outage.trips,
            "recoveries": outage.recoveries,
        },
        "note": "acquisitions and queued (had to wait) count every pool since start; hits "
        "(reused connection) / misses (new connection) and wait times count from the first "
        "request. connections_closed = created - open now. outage: the breaker that fails "
        "requests at once while PostgreSQL cannot be reached."
        + ("" if timed else " Wait times appear once this process served a request."),
    }
