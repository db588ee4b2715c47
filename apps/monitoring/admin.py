"""Admin of the audit log and the security events: searchable, filterable and read-only."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.utils.html import format_html

from apps.core.admin.readonly import ReadOnlyAdmin
from apps.core.selectors.plan import job_names_by_hwa_id
from apps.monitoring.models import AuditEvent, SecurityEvent
from apps.security.permissions import VIEW_MONITORING

# Targets are stored as "<kind>:<id>" as the service that audited wrote them, some with an id
# nobody can read (a job's HWA id is a UUID on a real HWA). kind -> names by id, read for a
# whole page of rows at once.
TARGET_NAMES: dict[str, Callable[[Iterable[str]], dict[str, str]]] = {
    "job": job_names_by_hwa_id,
}


def readable_targets(targets: Iterable[str]) -> dict[str, str]:
    """Target -> the same with a name in place of its id, for those that have one: one
    lookup per kind of target, whatever the number of rows."""
    ids_by_kind: dict[str, set[str]] = {}
    for target in targets:
        kind, _, ident = target.partition(":")
        if kind in TARGET_NAMES and ident:
            ids_by_kind.setdefault(kind, set()).add(ident)
    readable = {}
    for kind, ids in ids_by_kind.items():
        for ident, name in TARGET_NAMES[kind](ids).items():
            readable[f"{kind}:{ident}"] = f"{kind}:{name}"
    return readable


class AuditChangeList(ChangeList):
    """The changelist, with each row's readable target looked up for the page at once."""

    def get_results(self, request) -> None:
        super().get_results(request)
        events = list(self.result_list)  # evaluates the page's queryset (then reused)
        names = readable_targets(event.target for event in events)
        for event in events:
            event.readable_target = names.get(event.target)


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
        "target_display",
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

    def get_changelist(self, request, **kwargs):
        return AuditChangeList

    @admin.display(description="target", ordering="target")
    def target_display(self, event: AuditEvent) -> str:
        readable = getattr(event, "readable_target", None)
        if readable is None:
            return event.target
        return format_html('<span title="{}">{}</span>', event.target, readable)


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
