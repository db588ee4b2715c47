"""Monitoring models: the audit log (a hash chain nobody can quietly edit) and security events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

AUDIT_ROWS_NEVER_CHANGE = "Audit rows are never changed: record a new event instead."
AUDIT_ROWS_ONE_BY_ONE = "Audit rows are appended one at a time (save), so each joins the chain."


class AuditEventQuerySet(models.QuerySet):
    def requests(self) -> AuditEventQuerySet:
        """Rows the audit middleware wrote: one per state-changing HTTP request."""
        return self.filter(action=AuditEvent.REQUEST)

    def changes(self) -> AuditEventQuerySet:
        """Rows the services wrote: what changed, with its values before and after."""
        return self.exclude(action=AuditEvent.REQUEST)

    # The ways around save(): none of them would link a row into the chain or keep it intact.
    # (A deleted user's SET NULL goes through the plain base manager, as Django's deletion does.)
    def update(self, **kwargs):
        raise ValueError(AUDIT_ROWS_NEVER_CHANGE)

    def bulk_update(self, objs, fields, batch_size=None):
        raise ValueError(AUDIT_ROWS_NEVER_CHANGE)

    def bulk_create(self, objs, *args, **kwargs):
        raise ValueError(AUDIT_ROWS_ONE_BY_ONE)


class AuditEvent(models.Model):
    """One recorded change, privileged action or state-changing request, chained by hashes.

    Rows are appended only (`save()` of a new row; see apps.monitoring.chain): each stores
    the SHA-256 of its content and of the previous row's hash, so `verify_audit_log` finds a
    row edited, deleted or inserted behind Resync's back. On PostgreSQL a trigger refuses
    UPDATE and DELETE, except for the retention job and a deleted user's ON DELETE SET NULL.
    """

    REQUEST = "request"

    class Source(models.TextChoices):
        ADMIN = "admin"
        API = "api"
        COMMAND = "command"
        SYSTEM = "system"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Not in the hash: deleting a user sets it to NULL (actor_name keeps who it was).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(
        max_length=150, help_text="Username at the time (kept if the user is deleted)."
    )
    auth = models.CharField(
        max_length=32,
        blank=True,
        help_text="How the request was authenticated: session, jwt or api_key:<prefix>.",
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    action = models.CharField(max_length=64, db_index=True, help_text="e.g. pool_config.update")
    target = models.CharField(max_length=128, db_index=True, help_text="e.g. pool:database")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    outcome = models.CharField(max_length=16, default="ok", help_text="ok, failed, denied...")
    detail = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    ip = models.GenericIPAddressField(
        null=True, blank=True, help_text="Client address of the request that did it."
    )
    # Request rows (action "request"): what the middleware saw. Never the body or the query.
    method = models.CharField(max_length=8, blank=True)
    route = models.CharField(max_length=255, blank=True, help_text="The URL pattern matched.")
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="HTTP status.")
    duration_ms = models.FloatField(null=True, blank=True)
    # The chain: hash = SHA-256 of the canonical JSON of the row's content and prev_hash.
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.target}"

    def save(self, **kwargs) -> None:
        """Append the row to the chain; an existing row is never saved again."""
        if not self._state.adding:
            raise ValueError(AUDIT_ROWS_NEVER_CHANGE)
        from apps.monitoring.chain import chain_append  # chain imports this module

        chain_append(self, save=super().save, **kwargs)


class AuditCheckpoint(models.Model):
    """Where the audit chain starts after pruning: the last pruned row, signed (one row)."""

    at = models.DateTimeField(default=timezone.now)
    last_id = models.BigIntegerField(help_text="Id of the last row pruned.")
    last_hash = models.CharField(max_length=64, help_text="Its hash: the next row's prev_hash.")
    signature = models.CharField(max_length=64, help_text="HMAC-SHA256 of id and hash.")

    def __str__(self) -> str:
        return f"audit checkpoint after row {self.last_id}"


class SecurityEvent(models.Model):
    """Suspicious requests of one kind from one address within one minute, counted."""

    class Kind(models.TextChoices):
        SQL_INJECTION = "sql_injection"
        XSS = "xss"
        PATH_TRAVERSAL = "path_traversal"
        NULL_BYTE = "null_byte"
        SCANNER = "scanner"
        HTTP_ERROR = "http_error"
        ERROR_BURST = "error_burst"
        CSP_VIOLATION = "csp_violation"

    class Severity(models.IntegerChoices):
        LOW = 1, "low"
        MEDIUM = 2, "medium"
        HIGH = 3, "high"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    severity = models.PositiveSmallIntegerField(
        choices=Severity.choices, help_text="The highest severity recorded in this minute."
    )
    ip = models.CharField(
        max_length=45,
        blank=True,
        help_text="Client address; empty when unknown or past the per-minute address budget.",
    )
    minute = models.DateTimeField(help_text="The minute these requests fall in (UTC).")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    count = models.PositiveIntegerField(default=1, help_text="Requests of this kind that minute.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    username = models.CharField(
        max_length=150, blank=True, help_text="The first signed-in user seen (kept if deleted)."
    )
    # A sample: the first request of the minute (later ones only add to the count).
    path = models.CharField(max_length=512, blank=True)
    pattern = models.CharField(
        max_length=128, blank=True, help_text="What matched: a pattern, a status, a directive."
    )
    request_id = models.CharField(max_length=64, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-last_seen", "-id"]
        constraints = [
            # One row per address, kind and minute: the recorder adds to its count.
            models.UniqueConstraint(
                fields=["ip", "kind", "minute"], name="monitoring_securityevent_bucket"
            )
        ]
        indexes = [
            models.Index(fields=["last_seen"], name="monitoring_se_last_seen"),
            models.Index(fields=["kind", "last_seen"], name="monitoring_se_kind_last_seen"),
        ]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.kind} {self.ip or '-'} x{self.count}"


# Alert rules, alerts, webhook channels, notifications: kept in their own module.
from apps.monitoring.alerts.models import (  # noqa: E402
    Alert,
    AlertRule,
    Notification,
    WebhookChannel,
)

__all__ = [
    "Alert",
    "AlertRule",
    "AuditCheckpoint",
    "AuditEvent",
    "Notification",
    "SecurityEvent",
    "WebhookChannel",
]
