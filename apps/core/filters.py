"""FilterSets of the plan API. Every filter validates its input, so bad values are 400s.

Choices (`status`, a stream's `state`) and internal states match in any case.
"""

from __future__ import annotations

import django_filters as filters
from django.db.models import Q, QuerySet

from apps.core.api.filtering import (
    AnyCaseMultipleChoiceFilter,
    StrictBooleanFilter,
    StrictFilterSet,
)
from apps.core.models import Job, JobStream, Workstation
from apps.core.states import JOB_STREAM_STATES, JobStatus


class JobFilter(StrictFilterSet):
    """Filters for /api/v1/jobs/."""

    q = filters.CharFilter(method="search", max_length=64, help_text="Search job and stream names.")
    status = AnyCaseMultipleChoiceFilter(
        choices=JobStatus.choices, help_text="High-level status, any case; repeat for several."
    )
    internal_state = filters.CharFilter(
        lookup_expr="iexact", max_length=16, help_text="Internal state as HWA reports it, any case."
    )
    workstation = filters.CharFilter(field_name="workstation__name", max_length=64)
    stream = filters.CharFilter(field_name="stream__name", max_length=64)
    start_after = filters.IsoDateTimeFilter(field_name="start", lookup_expr="gte")
    start_before = filters.IsoDateTimeFilter(field_name="start", lookup_expr="lt")
    end_after = filters.IsoDateTimeFilter(field_name="end", lookup_expr="gte")
    end_before = filters.IsoDateTimeFilter(field_name="end", lookup_expr="lt")

    class Meta:
        model = Job
        fields = ["q", "status", "internal_state", "workstation", "stream"]

    def search(self, queryset: QuerySet[Job], name: str, value: str) -> QuerySet[Job]:
        return queryset.filter(Q(name__icontains=value) | Q(stream__name__icontains=value))


class WorkstationFilter(StrictFilterSet):
    """Filters for /api/v1/workstations/."""

    q = filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=64)
    type = filters.CharFilter(lookup_expr="iexact", max_length=16)
    link_state = filters.CharFilter(lookup_expr="iexact", max_length=16)
    gone = StrictBooleanFilter(
        field_name="gone_at",
        lookup_expr="isnull",
        exclude=True,
        help_text="true: only workstations HWA no longer lists; false: only listed ones.",
    )

    class Meta:
        model = Workstation
        fields = ["q", "type", "link_state", "gone"]


class JobStreamFilter(StrictFilterSet):
    """Filters for /api/v1/jobstreams/."""

    q = filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=64)
    workstation = filters.CharFilter(field_name="workstation__name", max_length=64)
    state = AnyCaseMultipleChoiceFilter(
        choices=[(state, state) for state in JOB_STREAM_STATES],
        lookup_expr="iexact",
        help_text="Internal state as HWA reports it, any case; repeat for several.",
    )
    scheduled_after = filters.IsoDateTimeFilter(field_name="scheduled_time", lookup_expr="gte")
    scheduled_before = filters.IsoDateTimeFilter(field_name="scheduled_time", lookup_expr="lt")

    class Meta:
        model = JobStream
        fields = ["q", "workstation", "state"]
