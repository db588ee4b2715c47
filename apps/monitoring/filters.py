"""FilterSets of the monitoring API. Every filter validates its input: bad values are 400s."""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.db.models import QuerySet

from apps.core.api.filtering import AnyCaseMultipleChoiceFilter, StrictFilterSet
from apps.monitoring.models import AuditEvent, SecurityEvent
from apps.monitoring.selectors import severity_value


class IpAddressFilter(filters.CharFilter):
    """An IP address, compared in its canonical form; anything else is a 400."""

    field_class = forms.GenericIPAddressField


class SecurityEventFilter(StrictFilterSet):
    """Filters for /api/v1/security-events/."""

    kind = AnyCaseMultipleChoiceFilter(
        choices=SecurityEvent.Kind.choices, help_text="Kind of event, any case; repeatable."
    )
    severity = AnyCaseMultipleChoiceFilter(
        choices=[(label, label) for _value, label in SecurityEvent.Severity.choices],
        method="filter_severity",
        help_text="low, medium or high; repeat for several.",
    )
    ip = IpAddressFilter(field_name="ip", unpack_ipv4=True, help_text="Client address.")
    since = filters.IsoDateTimeFilter(
        field_name="last_seen", lookup_expr="gte", help_text="Seen at or after (ISO 8601)."
    )

    class Meta:
        model = SecurityEvent
        fields = ["kind", "severity", "ip", "since"]

    def filter_severity(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset.filter(severity__in=[severity_value(label) for label in value])


class AuditEventFilter(StrictFilterSet):
    """Filters for /api/v1/audit/."""

    actor = filters.CharFilter(
        field_name="actor_name", max_length=150, help_text="Username (as it was at the time)."
    )
    action = filters.CharFilter(
        max_length=64, help_text="e.g. job.rerun, pool_config.update, or request."
    )
    source = AnyCaseMultipleChoiceFilter(
        choices=AuditEvent.Source.choices, help_text="admin, api, command or system; repeatable."
    )
    outcome = filters.CharFilter(max_length=16, help_text="ok, failed, denied, refused...")
    since = filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")
    request_id = filters.CharFilter(max_length=64, help_text="Every row of one request or run.")

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "source", "outcome", "request_id"]
