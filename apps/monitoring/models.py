"""Monitoring models: the audit log."""

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


# Alert rules, alerts, webhook channels, notifications: kept in their own module.
from apps.monitoring.alerts.models import (  # noqa: E402
    Alert,
    AlertRule,
    Notification,
    WebhookChannel,
)

__all__ = ["Alert", "AlertRule", "AuditEvent", "Notification", "WebhookChannel"]
