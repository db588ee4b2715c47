"""Admin of the audit log and the security events: searchable, filterable and read-only."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin.readonly import ReadOnlyAdmin
from apps.monitoring.models import AuditEvent, SecurityEvent
from apps.security.permissions import VIEW_MONITORING


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    required_permission = VIEW_MONITORING
    list_display = [
        "at",
        "actor_name",
        "auth",
        "ip",
        "source",
        "action",
        "target",
        "status",
        "outcome",
        "duration_ms",
        "request_id",
    ]
    list_filter = ["source", "action", "outcome", "method", "status"]
    # request_id: a request's own row and every change it made.
    search_fields = ["actor_name", "action", "target", "detail", "request_id", "route"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    required_permission = VIEW_MONITORING
    list_display = ["last_seen", "kind", "severity", "ip", "count", "username", "path", "pattern"]
    list_filter = ["kind", "severity"]
    search_fields = ["ip", "username", "path", "pattern", "request_id", "detail"]
    date_hierarchy = "last_seen"
    readonly_fields = [f.name for f in SecurityEvent._meta.fields]


# Alert rules, webhook channels, alerts and notifications.
from apps.monitoring.alerts import admin as alerts_admin  # noqa: E402, F401
