"""Monitoring models: the audit log and security events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One recorded change or privileged action: who, when, what, before and after."""

    class Source(models.TextChoices):
        ADMIN = "admin"
        API = "api"
        COMMAND = "command"
        SYSTEM = "system"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(
        max_length=150, help_text="Username at the time (kept if the user is deleted)."
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    action = models.CharField(max_length=64, db_index=True, help_text="e.g. pool_config.update")
    target = models.CharField(max_length=128, db_index=True, help_text="e.g. pool:database")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    outcome = models.CharField(max_length=16, default="ok", help_text="ok, or failed")
    detail = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(
        null=True, blank=True, help_text="Client address of the request that did it."
    )

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.target}"


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
