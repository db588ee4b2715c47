"""Editable connection-pool settings: one row per pool (database, redis, hwa_http).

Every rule for these values lives here: each field's range as its validators, the rules
between fields in `clean()`. The service (apps.core.services.pools) and the admin form run
them through `full_clean()`; both report Django's ValidationError by field.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

# The limits each backend accepts.
MAX_POOL_SIZE = 1000
MAX_SECONDS = 86_400

MIN_GT_MAX = "min_size ({min}) must not exceed max_size ({max})."
LIFETIME_NOT_ABOVE_IDLE = "max_lifetime ({life} s) must be longer than idle_timeout ({idle} s)."
OUT_OF_RANGE = "Must be between {low} and {high}."


def in_range(low: int, high: int) -> list:
    """A field's validators: one message naming the whole range, whichever bound it misses."""
    message = OUT_OF_RANGE.format(low=low, high=high)
    return [MinValueValidator(low, message=message), MaxValueValidator(high, message=message)]


def field_range(field: str) -> tuple[int, int]:
    """The (lowest, highest) value a field's validators accept (the API schema shows them)."""
    validators = ConnectionPoolConfig._meta.get_field(field).validators
    low = max(v.limit_value for v in validators if isinstance(v, MinValueValidator))
    high = min(v.limit_value for v in validators if isinstance(v, MaxValueValidator))
    return low, high


class ConnectionPoolConfig(models.Model):
    """The live settings of one connection pool; a change applies in every process."""

    class Name(models.TextChoices):
        DATABASE = "database", "PostgreSQL (psycopg pool)"
        REDIS = "redis", "Redis (django-redis / redis-py)"
        HWA_HTTP = "hwa_http", "HWA HTTP (httpx)"

    name = models.CharField(max_length=32, choices=Name.choices, unique=True)
    min_size = models.PositiveIntegerField(
        validators=in_range(0, MAX_POOL_SIZE),
        help_text="Connections kept open even when idle, per process (count). "
        "PostgreSQL: psycopg pool min_size. Redis and HWA HTTP open connections on demand "
        "and have no minimum: the value is validated but has no effect there.",
    )
    max_size = models.PositiveIntegerField(
        validators=in_range(1, MAX_POOL_SIZE),
        help_text="Most connections open at once, per process (count). Beyond it, callers "
        "wait up to connection_timeout. Keep max_size x processes under PostgreSQL's "
        "max_connections.",
    )
    idle_timeout = models.PositiveIntegerField(
        validators=in_range(1, MAX_SECONDS),
        help_text="Seconds an unused connection above min_size stays open before it is "
        "closed (psycopg max_idle; httpx keepalive_expiry). Redis: no equivalent.",
    )
    connection_timeout = models.PositiveIntegerField(
        validators=in_range(1, 600),
        help_text="Seconds a caller waits for a free connection before failing. PostgreSQL: "
        "background work waits this long; a request waits at most DB_REQUEST_TIMEOUT, then "
        "answers 503 with Retry-After. HWA HTTP: the connect timeout is the HWA connection's.",
    )
    health_check_interval = models.PositiveIntegerField(
        validators=in_range(1, MAX_SECONDS),
        help_text="Seconds between health checks. PostgreSQL: every idle connection is "
        "checked (pool.check()) this often. Redis: a connection idle longer than this is "
        "PINGed before use. HWA HTTP: no equivalent (httpx retries dead keep-alives).",
    )
    max_lifetime = models.PositiveIntegerField(
        validators=in_range(1, MAX_SECONDS),
        help_text="Seconds after which a connection is replaced, even if healthy "
        "(psycopg max_lifetime). Must exceed idle_timeout. Redis and HWA HTTP: no equivalent.",
    )
    max_waiting = models.PositiveIntegerField(
        default=0,
        validators=in_range(0, 100_000),
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
        """The rules between fields (a value that is not a whole number is left to its field)."""
        errors: dict[str, str] = {}
        low, high, idle, life = self._ints("min_size", "max_size", "idle_timeout", "max_lifetime")
        if low is not None and high is not None and low > high:
            errors["min_size"] = MIN_GT_MAX.format(min=low, max=high)
        if idle is not None and life is not None and life <= idle:
            errors["max_lifetime"] = LIFETIME_NOT_ABOVE_IDLE.format(life=life, idle=idle)
        if errors:
            raise ValidationError(errors)

    def _ints(self, *fields: str) -> list[int | None]:
        values = [getattr(self, field) for field in fields]
        return [v if isinstance(v, int) and not isinstance(v, bool) else None for v in values]


EDITABLE_FIELDS = (
    "min_size",
    "max_size",
    "idle_timeout",
    "connection_timeout",
    "health_check_interval",
    "max_lifetime",
    "max_waiting",
)
