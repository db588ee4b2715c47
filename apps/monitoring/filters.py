"""Filters of the audit log API. Every filter validates its input, so bad values are 400s."""

from __future__ import annotations

import django_filters as filters

from apps.core.api.filtering import AnyCaseMultipleChoiceFilter, StrictFilterSet
from apps.monitoring.models import AuditEvent


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
