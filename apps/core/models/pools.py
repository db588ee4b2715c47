"""Editable connection-pool settings: one row per pool (database, redis, hwa_http)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

# The limits each backend accepts; validation (pools.validation) uses them too.
MAX_POOL_SIZE = 1000
MAX_SECONDS = 86_400


class ConnectionPoolConfig(models.Model):
    """The live settings of one connection pool; a change applies in every process."""

    class Name(models.TextChoices):
        DATABASE = "database", "PostgreSQL (psycopg pool)"
        REDIS = "redis", "Redis (django-redis / redis-py)"
        HWA_HTTP = "hwa_http", "HWA HTTP (httpx)"

    name = models.CharField(max_length=32, choices=Name.choices, unique=True)
    min_size = models.PositiveIntegerField(
        help_text="Connections kept open even when idle, per process (count). "
        "PostgreSQL: psycopg pool min_size. Redis and HWA HTTP open connections on demand "
        "and have no minimum: the value is validated but has no effect there."
    )
    max_size = models.PositiveIntegerField(
        help_text="Most connections open at once, per process (count). Beyond it, callers "
        "wait up to connection_timeout. Keep max_size x processes under PostgreSQL's "
        "max_connections."
    )
    idle_timeout = models.PositiveIntegerField(
        help_text="Seconds an unused connection above min_size stays open before it is "
        "closed (psycopg max_idle; httpx keepalive_expiry). Redis: no equivalent."
    )
    connection_timeout = models.PositiveIntegerField(
        help_text="Seconds a caller waits for a free connection (and, for HWA HTTP, to "
        "connect) before failing; a database wait past it answers 503 with Retry-After."
    )
    health_check_interval = models.PositiveIntegerField(
        help_text="Seconds between health checks. PostgreSQL: every idle connection is "
        "checked (pool.check()) this often. Redis: a connection idle longer than this is "
        "PINGed before use. HWA HTTP: no equivalent (httpx retries dead keep-alives)."
    )
    max_lifetime = models.PositiveIntegerField(
        help_text="Seconds after which a connection is replaced, even if healthy "
        "(psycopg max_lifetime). Must exceed idle_timeout. Redis and HWA HTTP: no equivalent."
    )
    max_waiting = models.PositiveIntegerField(
        default=0,
        help_text="Most callers queued for a connection at once; more fail at once with "
        "503 (count, 0 = unlimited). PostgreSQL only (psycopg max_waiting).",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} pool"

    def values(self) -> dict[str, int]:
        """The editable settings as a plain dict (for diffs, audit and presets)."""
        return {field: getattr(self, field) for field in EDITABLE_FIELDS}

    def clean(self) -> None:
        from apps.core.pools.validation import pool_values_errors

        errors = pool_values_errors(self.values())
        if errors:
            raise ValidationError(errors)


EDITABLE_FIELDS = (
    "min_size",
    "max_size",
    "idle_timeout",
    "connection_timeout",
    "health_check_interval",
    "max_lifetime",
    "max_waiting",
)
