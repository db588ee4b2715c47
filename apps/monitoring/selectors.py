"""Monitoring reads: the health reports (apps/monitoring/health.py runs the checks) and the
metrics (apps/monitoring/metrics: `collect()`)."""

from __future__ import annotations

from apps.monitoring.health import (
    CHECKS,
    DEGRADED,
    HEALTHY,
    UNHEALTHY,
    ComponentHealth,
    health_check_register,
    health_report,
    readiness_report,
)

__all__ = [
    "CHECKS",
    "DEGRADED",
    "HEALTHY",
    "UNHEALTHY",
    "ComponentHealth",
    "health_check_register",
    "health_report",
    "readiness_report",
]
