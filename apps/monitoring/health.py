"""Health of Resync's dependencies, measured, not assumed, and answered within a second.

Each check makes a real round trip (a query, a cache write and read, a read of the sync's
state) and is timed. A failing check gives its component the check's failure status:
`unhealthy` if Resync cannot serve without it (the database, its schema), `degraded`
otherwise (Redis: served from memory; the plan sync: the mirror as last synced); a check
slower than SLOW_MS is `degraded`. The overall status is the worst component's.

Three reports (apps/monitoring/api/views.py, `manage.py health`):
- liveness: the process answers; no check, no I/O.
- readiness: the checks registered with ready=True (database, cache, migrations, the sync
  heartbeat): can this instance serve now?
- health: every check, each with its status, response time, detail and when it ran.

WITHIN A SECOND, WHATEVER HANGS. Checks run in a small thread pool; a report waits for each
at most its own timeout, and for all of them at most DEADLINE_S. A check that has not
answered by then is reported with its failure status ("no answer within ..."), and keeps
its thread until it returns: while it does, later reports do not start another of the same
check (they report how long it has been waiting), so a hung dependency holds one thread,
not one per poll. Waits for a pooled database connection are capped at DB_WAIT_S (none at
all while the database is known to be down, apps/core/pools/outage.py), and the cache
check asks Redis itself, which fails at once during its back-off after an error.

CHEAP UNDER A FLOOD. Each result is kept in the process for RESULT_TTL_S: any number of
health, readiness and metrics polls cost at most one round trip per dependency per second
per process. The `checked_at` timestamp says how old a result is.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from django.core.cache import cache
from django.db import OperationalError, connection, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from psycopg_pool import PoolTimeout, TooManyRequests

from apps.core.pools.database import request_deadline

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"
_RANK = {HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2}
SLOW_MS = 1000.0
# Longest wait for a pooled connection per check: a few checks read the database.
DB_WAIT_S = 0.25
CHECK_TIMEOUT_S = 0.5
DEADLINE_S = 0.9  # the whole report, so the HTTP answer leaves within a second
RESULT_TTL_S = 1.0
MAX_THREADS = 8
POOL_BUSY = "no pooled connection became free within {wait} s: the pool is busy"
NO_ANSWER = "no answer within {timeout} s"
STILL_WAITING = (
    "no answer within {timeout} s (the check started {waited:.1f} s ago is still running)"
)
NOT_MIGRATED = "{count} migration(s) not applied: {names} (run manage.py migrate)"


class Degraded(Exception):
    """Raised by a check whose component works, but not well: degraded, not its failure status."""


SHUTTING_DOWN = "this server process is shutting down"


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    """The outcome of one component's check."""

    status: str
    response_time_ms: float
    detail: str = ""
    checked_at: str = ""  # ISO 8601, UTC: when the check ran (results are reused for 1 s)


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """A registered check: `run` raises (with the reason) when the component is not healthy."""

    run: Callable[[], None]
    failure: str  # the component's status when `run` raises or does not answer in time
    timeout: float = CHECK_TIMEOUT_S
    ready: bool = False  # part of the readiness report


# --- the checks ---------------------------------------------------------------------------
def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    # A tiered cache answers from memory when Redis is gone: ask Redis itself first.
    check_shared = getattr(cache, "check_shared", None)
    if check_shared is not None:
        check_shared()
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=5)
    value = cache.get(key)
    cache.delete(key)
    if value != "ok":
        raise RuntimeError("the cache did not return what was written")


_expected_migrations: set[tuple[str, str]] | None = None


def migrations_on_disk() -> set[tuple[str, str]]:
    """Every migration on disk, as (app, name): read once per process, without the database.

    The production launcher calls it before forking its workers (resync_site/serve.py), so
    they share the graph and its ~80 imported modules instead of each reading them on its
    first health check.
    """
    global _expected_migrations
    if _expected_migrations is None:
        _expected_migrations = set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)
    return _expected_migrations


def _check_migrations() -> None:
    """Every migration on disk is recorded as applied (one query; the graph is read once)."""
    applied = MigrationRecorder(connection).applied_migrations()
    missing = sorted(migrations_on_disk() - set(applied))
    if missing:
        names = ", ".join(f"{app}.{name}" for app, name in missing[:5])
        raise RuntimeError(NOT_MIGRATED.format(count=len(missing), names=names))


CHECKS: dict[str, HealthCheck] = {
    "database": HealthCheck(_check_database, UNHEALTHY, ready=True),
    "cache": HealthCheck(_check_cache, DEGRADED, ready=True),
    # The first call reads the migration graph from disk (tens of ms): a longer timeout.
    "migrations": HealthCheck(_check_migrations, UNHEALTHY, timeout=0.8, ready=True),
}


def health_check_register(
    name: str,
    run: Callable[[], None],
    *,
    failure: str = DEGRADED,
    timeout: float = CHECK_TIMEOUT_S,
    ready: bool = False,
) -> None:
    """Add (or replace) a component's check; apps register theirs in AppConfig.ready()."""
    CHECKS[name] = HealthCheck(run, failure, timeout, ready)


# --- running them -------------------------------------------------------------------------
def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pool_busy(exc: Exception) -> bool:
    return isinstance(exc, OperationalError) and isinstance(
        exc.__cause__, PoolTimeout | TooManyRequests
    )


def _run(check: HealthCheck) -> ComponentHealth:
    started = time.perf_counter()
    checked_at = _now_iso()
    try:
        with request_deadline(DB_WAIT_S):
            check.run()
        elapsed = round((time.perf_counter() - started) * 1000, 2)
    except Exception as exc:
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        if _pool_busy(exc):  # the database is up but saturated: whatever reads it is slowed
            exc = Degraded(POOL_BUSY.format(wait=DB_WAIT_S))
        status = DEGRADED if isinstance(exc, Degraded) else check.failure
        return ComponentHealth(status, elapsed, f"{type(exc).__name__}: {exc}", checked_at)
    finally:
        connections.close_all()  # this thread's connections go back to the pool
    status = DEGRADED if elapsed > SLOW_MS else HEALTHY
    detail = f"slower than {SLOW_MS:.0f} ms" if status == DEGRADED else ""
    return ComponentHealth(status, elapsed, detail, checked_at)


class _Runner:
    """The process's check threads, the checks in flight and the results of the last second."""

    def __init__(self) -> None:
        # Reentrant: a check that is already done runs its done-callback in the thread that
        # adds it, which holds this lock.
        self._lock = threading.RLock()
        self._pid: int | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._results: dict[str, tuple[float, ComponentHealth]] = {}
        self._running: dict[str, tuple[float, Future]] = {}

    def results(self, names: Iterable[str]) -> dict[str, ComponentHealth]:
        started = time.monotonic()
        deadline = started + DEADLINE_S
        found: dict[str, ComponentHealth] = {}
        waiting: dict[str, tuple[float, Future]] = {}
        with self._lock:
            self._forget_after_fork()
            for name in names:
                kept = self._results.get(name)
                if kept is not None and kept[0] > started:
                    found[name] = kept[1]
                else:
                    waiting[name] = self._running.get(name) or self._start(name, started)
        for name, (since, future) in waiting.items():
            found[name] = self._wait(name, since, future, deadline, inherited=since < started)
        return found

    def clear(self) -> None:
        with self._lock:
            self._results.clear()
            self._running.clear()  # a check still in flight finishes, and is not kept

    def _forget_after_fork(self) -> None:
        # A forked worker inherits neither the threads nor their futures: start afresh.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._executor = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="health")
            self._results.clear()
            self._running.clear()

    def _start(self, name: str, now: float) -> tuple[float, Future]:
        check = CHECKS[name]
        try:
            future = self._executor.submit(_run, check)
        except RuntimeError:
            # The interpreter is exiting (a server stopping its worker while a request is
            # in flight): no thread can start, so the component is reported unreachable.
            future = Future()
            future.set_result(ComponentHealth(check.failure, 0.0, SHUTTING_DOWN, _now_iso()))
            return (now, future)
        running = (now, future)
        self._running[name] = running
        future.add_done_callback(lambda done: self._finished(name, running, done))
        return running

    def _finished(self, name: str, running: tuple[float, Future], future: Future) -> None:
        with self._lock:
            if self._running.get(name) is not running:
                return  # forgotten meanwhile (health_results_clear, a fork)
            del self._running[name]
            if not future.cancelled() and future.exception() is None:
                self._results[name] = (time.monotonic() + RESULT_TTL_S, future.result())

    def _wait(
        self, name: str, since: float, future: Future, deadline: float, *, inherited: bool
    ) -> ComponentHealth:
        check = CHECKS[name]
        limit = min(since + check.timeout, deadline)
        try:
            return future.result(timeout=max(0.0, limit - time.monotonic()))
        except FutureTimeout:
            waited = time.monotonic() - since
            if inherited:  # started by an earlier report, and still not back
                detail = STILL_WAITING.format(timeout=check.timeout, waited=waited)
            else:
                detail = NO_ANSWER.format(timeout=check.timeout)
            return ComponentHealth(check.failure, round(waited * 1000, 2), detail, _now_iso())


_runner = _Runner()


def health_results_clear() -> None:
    """Forget the results kept for RESULT_TTL_S and the checks in flight (tests)."""
    _runner.clear()


def _report(names: list[str]) -> dict:
    components = _runner.results(names)
    return {
        "status": _overall(components.values()),
        "components": {n: asdict(components[n]) for n in names},
    }


def _overall(components: Iterable[ComponentHealth]) -> str:
    return max((c.status for c in components), key=_RANK.__getitem__, default=HEALTHY)


def health_report() -> dict:
    """Overall status plus each component's status, response time, detail and check time."""
    return _report(list(CHECKS))


def readiness_report() -> dict:
    """As health_report, for the checks that decide whether this instance can serve."""
    return _report(_ready_names())


def health_status() -> str:
    """health_report()'s overall status alone: what an anonymous poll is shown, without
    copying every component into a dict (a third of a poll's cost, issue 12's profile)."""
    return _overall(_runner.results(list(CHECKS)).values())


def readiness_status() -> str:
    """readiness_report()'s overall status alone."""
    return _overall(_runner.results(_ready_names()).values())


def _ready_names() -> list[str]:
    # Read at each call: checks can be registered after start-up (health_check_register).
    return [name for name, check in CHECKS.items() if check.ready]
