"""Monitoring reads: the health reports (apps/monitoring/health.py runs the checks), the
metrics (apps/monitoring/metrics: `collect()`), the audit log and security events."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet, Sum

from apps.monitoring.health import (
    CHECKS,
    DEGRADED,
    HEALTHY,
    UNHEALTHY,
    ComponentHealth,
    health_check_register,
    health_report,
    health_status,
    readiness_report,
    readiness_status,
)
from apps.monitoring.models import AuditEvent, SecurityEvent

__all__ = [
    "CHECKS",
    "DEGRADED",
    "HEALTHY",
    "UNHEALTHY",
    "ComponentHealth",
    "audit_event_list",
    "health_check_register",
    "health_report",
    "health_status",
    "readiness_report",
    "readiness_status",
    "security_event_count",
    "security_event_list",
    "severity_value",
]


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
