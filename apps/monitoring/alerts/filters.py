"""Filters of GET /api/v1/alerts/."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Q, QuerySet

from apps.core.api.filtering import AnyCaseMultipleChoiceFilter, StrictFilterSet
from apps.monitoring.alerts.models import Alert, Severity


class AlertFilter(StrictFilterSet):
    """Filters for /api/v1/alerts/."""

    state = AnyCaseMultipleChoiceFilter(
        choices=Alert.State.choices, help_text="open or resolved, any case; repeat for both."
    )
    severity = AnyCaseMultipleChoiceFilter(
        choices=Severity.choices, help_text="info, warning, critical, any case; repeatable."
    )
    since = filters.IsoDateTimeFilter(
        method="open_since",
        help_text="Alerts open at or after this time (ISO 8601): still open, or resolved since.",
    )

    class Meta:
        model = Alert
        fields = ["state", "severity", "since"]

    def open_since(self, queryset: QuerySet[Alert], name: str, value) -> QuerySet[Alert]:
        return queryset.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=value))
