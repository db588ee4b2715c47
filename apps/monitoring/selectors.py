"""Health of Resync's dependencies, measured, not assumed.

Each check runs a real round trip (a query, a cache write and read) and times it. The
overall status is the worst component's: a component that fails is `unhealthy` if
Resync cannot serve without it (the database) and `degraded` otherwise (the cache);
a component slower than SLOW_MS is `degraded`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.core.cache import cache
from django.db import connection

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"
_RANK = {HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2}
SLOW_MS = 1000.0


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    """The outcome of one component's check."""

    status: str
    response_time_ms: float
    detail: str = ""


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=5)
    value = cache.get(key)
    cache.delete(key)
    if value != "ok":
        raise RuntimeError("the cache did not return what was written")


# name -> (check, status when the check fails)
CHECKS: dict[str, tuple[Callable[[], None], str]] = {
    "database": (_check_database, UNHEALTHY),
    "cache": (_check_cache, DEGRADED),
}


def _run(check: Callable[[], None], failure_status: str) -> ComponentHealth:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return ComponentHealth(failure_status, round(elapsed, 2), f"{type(exc).__name__}: {exc}")
    elapsed = (time.perf_counter() - started) * 1000
    status = DEGRADED if elapsed > SLOW_MS else HEALTHY
    detail = f"slower than {SLOW_MS:.0f} ms" if status == DEGRADED else ""
    return ComponentHealth(status, round(elapsed, 2), detail)


def health_report() -> dict:
    """Overall status plus each component's status, response time and detail."""
    components = {name: _run(check, failure) for name, (check, failure) in CHECKS.items()}
    overall = max((c.status for c in components.values()), key=_RANK.__getitem__)
    return {"status": overall, "components": {n: asdict(c) for n, c in components.items()}}
