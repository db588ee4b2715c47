"""Monitoring reads: health of Resync's dependencies, and security events.

Health is measured, not assumed.

Each check runs a real round trip (a query, a cache write and read) and times it. The
overall status is the worst component's: a component that fails is `unhealthy` if
Resync cannot serve without it (the database) and `degraded` otherwise (the cache);
a component slower than SLOW_MS is `degraded`.

Health answers within a second whatever is down: every wait for a database connection in
a check is capped at DB_WAIT_S (none at all while the database is known to be down, see
apps/core/pools/outage.py), and the cache check asks the shared tier (Redis) directly,
which fails at once during its back-off after an error.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import OperationalError, connection
from django.db.models import QuerySet, Sum
from psycopg_pool import PoolTimeout, TooManyRequests

from apps.core.pools.database import request_deadline
from apps.monitoring.models import AuditEvent, SecurityEvent

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"
_RANK = {HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2}
SLOW_MS = 1000.0
# Longest wait for a pooled connection per check: a few checks read the database.
DB_WAIT_S = 0.25
POOL_BUSY = "no pooled connection became free within {wait} s: the pool is busy"


class Degraded(Exception):
    """Raised by a check whose component works, but not well: degraded, not its failure status."""


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    """The outcome of one component's check."""

    status: str
    response_time_ms: float
    detail: str = ""


def _check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except OperationalError as exc:
        if isinstance(exc.__cause__, PoolTimeout | TooManyRequests):  # up, but saturated
            raise Degraded(POOL_BUSY.format(wait=DB_WAIT_S)) from exc
        raise


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
        status = DEGRADED if isinstance(exc, Degraded) else failure_status
        return ComponentHealth(status, round(elapsed, 2), f"{type(exc).__name__}: {exc}")
    elapsed = (time.perf_counter() - started) * 1000
    status = DEGRADED if elapsed > SLOW_MS else HEALTHY
    detail = f"slower than {SLOW_MS:.0f} ms" if status == DEGRADED else ""
    return ComponentHealth(status, round(elapsed, 2), detail)


def health_report() -> dict:
    """Overall status plus each component's status, response time and detail."""
    with request_deadline(DB_WAIT_S):
        components = {name: _run(check, failure) for name, (check, failure) in CHECKS.items()}
    overall = max((c.status for c in components.values()), key=_RANK.__getitem__)
    return {"status": overall, "components": {n: asdict(c) for n, c in components.items()}}


def audit_event_list() -> QuerySet[AuditEvent]:
    """The audit log, newest first (filtered and paginated by the API)."""
    return AuditEvent.objects.order_by("-at", "-id")


def security_event_list() -> QuerySet[SecurityEvent]:
    """Security events, the most recently seen first."""
    return SecurityEvent.objects.order_by("-last_seen", "-id")


def security_event_count(
    *, since: datetime, kind: str | None = None, min_severity: int | str | None = None
) -> int:
    """Security events (the sum of their counts) seen since `since`, of `kind`, at or above
    `min_severity` (a Severity or its name).

    A row counts a minute: one last seen after `since` counts whole, even if its first
    events came before. Events of the last second or so may still be in a process's memory
    (apps.monitoring.recorder).
    """
    rows = SecurityEvent.objects.filter(last_seen__gte=since)
    if kind is not None:
        rows = rows.filter(kind=SecurityEvent.Kind(kind))
    if min_severity is not None:
        rows = rows.filter(severity__gte=severity_value(min_severity))
    return rows.aggregate(total=Sum("count"))["total"] or 0


def severity_value(severity: int | str) -> int:
    """A Severity from itself or its name ("low", "medium", "high")."""
    if isinstance(severity, str):
        names = {label: value for value, label in SecurityEvent.Severity.choices}
        if severity.lower() not in names:
            raise ValueError(f"Unknown severity {severity!r}; known: {', '.join(names)}")
        return names[severity.lower()]
    return int(SecurityEvent.Severity(severity))
