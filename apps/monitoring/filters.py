"""FilterSets of the monitoring API."""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.db.models import QuerySet

from apps.core.api.filtering import AnyCaseMultipleChoiceFilter, StrictFilterSet
from apps.monitoring.models import SecurityEvent
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
