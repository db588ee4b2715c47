"""Admin of the audit log: searchable, filterable and read-only."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin.readonly import ReadOnlyAdmin
from apps.monitoring.models import AuditEvent
from apps.security.permissions import VIEW_MONITORING


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    required_permission = VIEW_MONITORING
    list_display = ["at", "actor_name", "ip", "source", "action", "target", "outcome"]
    list_filter = ["source", "action", "outcome"]
    search_fields = ["actor_name", "action", "target", "detail", "request_id"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]


# Alert rules, webhook channels, alerts and notifications.
from apps.monitoring.alerts import admin as alerts_admin  # noqa: E402, F401
