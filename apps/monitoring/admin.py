"""Admin of the audit log and the security events: searchable, filterable and read-only."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin.readonly import ReadOnlyAdmin
from apps.monitoring.models import AuditEvent, SecurityEvent
from apps.security.permissions import VIEW_MONITORING


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    required_permission = VIEW_MONITORING
    list_display = ["at", "actor_name", "ip", "source", "action", "target", "outcome"]
    list_filter = ["source", "action", "outcome"]
    search_fields = ["actor_name", "action", "target", "detail", "request_id"]
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
