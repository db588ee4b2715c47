"""Plan API views: thin, reading through selectors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core import selectors
from apps.core.api import serializers
from apps.core.api.base import BaseAPIView, PlanFreshnessMixin, ReadOnlyViewSet
from apps.core.api.caching import cached_json
from apps.core.filters import JobFilter, JobStreamFilter, WorkstationFilter
from apps.security.permissions import VIEW_PLAN


class JobViewSet(ReadOnlyViewSet):
    """Jobs of the current plan."""

    required_permission = VIEW_PLAN
    queryset = selectors.job_list()
    serializer_class = serializers.JobSerializer
    filterset_class = JobFilter
    ordering_fields = [
        "id",
        "name",
        "status",
        "internal_state",
        "start",
        "end",
        "return_code",
        "rerun_count",
        "updated_at",
    ]
    ordering = ["id"]

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.job_detail_list()
        return super().get_queryset()

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.JobDetailSerializer
        return super().get_serializer_class()

    def list(self, request: Request, *args, **kwargs) -> Response:
        return cached_json(request, "jobs", lambda: super(JobViewSet, self).list(request))

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return cached_json(
            request,
            f"job:{kwargs['pk']}",
            lambda: super(JobViewSet, self).retrieve(request, *args, **kwargs),
        )


class JobStatusSummaryView(PlanFreshnessMixin, BaseAPIView):
    """Counts of jobs by status, internal state and workstation."""

    required_permission = VIEW_PLAN

    @extend_schema(responses=serializers.JobStatusSummarySerializer)
    def get(self, request: Request) -> Response:
        return cached_json(request, "jobs-status", lambda: Response(selectors.job_status_summary()))


class WorkstationViewSet(ReadOnlyViewSet):
    """Workstations of the HWA network."""

    required_permission = VIEW_PLAN
    queryset = selectors.workstation_list()
    serializer_class = serializers.WorkstationSerializer
    filterset_class = WorkstationFilter
    ordering_fields = ["id", "name", "type", "link_state", "gone_at"]
    ordering = ["name"]


class JobStreamViewSet(ReadOnlyViewSet):
    """Job stream instances of the current plan."""

    required_permission = VIEW_PLAN
    queryset = selectors.jobstream_list()
    serializer_class = serializers.JobStreamSerializer
    filterset_class = JobStreamFilter
    ordering_fields = ["id", "name", "scheduled_time", "state"]
    ordering = ["scheduled_time", "id"]
