"""Plan API views: thin, reading through selectors."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.core import export, selectors
from apps.core.api import serializers
from apps.core.api.base import (
    BaseAPIView,
    PlanFreshnessMixin,
    ReadOnlyViewSet,
    StrictQueryParamsMixin,
)
from apps.core.api.caching import CachedReadMixin, cached_json
from apps.core.filters import JobFilter, JobStreamFilter, WorkstationFilter
from apps.core.selectors.sync import plan_date
from apps.security.permissions import VIEW_PLAN
from apps.security.throttling import ExportThrottle

JOB_ORDERING_FIELDS = [
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


class JobViewSet(CachedReadMixin, ReadOnlyViewSet):
    """Jobs of the current plan (a cached list or job is served by the lean dispatch)."""

    required_permission = VIEW_PLAN
    queryset = selectors.job_list()
    serializer_class = serializers.JobSerializer
    filterset_class = JobFilter
    ordering_fields = JOB_ORDERING_FIELDS
    ordering = ["id"]

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.job_detail_list()
        return super().get_queryset()

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.JobDetailSerializer
        return super().get_serializer_class()

    def cached_read_name(self, kwargs: dict) -> str | None:
        if self.action == "list":
            return "jobs"
        return f"job:{kwargs['pk']}" if self.action == "retrieve" else None

    def list(self, request: Request, *args, **kwargs) -> Response:
        name = self.cached_read_name(kwargs)
        return cached_json(request, name, lambda: super(JobViewSet, self).list(request))

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return cached_json(
            request,
            self.cached_read_name(kwargs),
            lambda: super(JobViewSet, self).retrieve(request, *args, **kwargs),
        )


class JobExportView(StrictQueryParamsMixin, PlanFreshnessMixin, generics.ListAPIView):
    """The jobs of the current plan as one CSV or NDJSON file, streamed.

    The list's filters and ordering, no pagination: every matching job, read from a database
    cursor and written a chunk at a time (apps/core/export.py), so memory stays flat whatever
    the plan's size. `format` names the file format here, not DRF's renderer: errors are
    always JSON problems.
    """

    required_permission = VIEW_PLAN
    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, ExportThrottle]
    renderer_classes = [JSONRenderer]  # problems only; the export itself is not rendered
    queryset = selectors.job_list().select_related(None)  # rows are read as values
    filterset_class = JobFilter
    ordering_fields = JOB_ORDERING_FIELDS
    ordering = ["id"]
    pagination_class = None

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # `?format=csv` would otherwise ask DRF for a renderer of that name (a 404).
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        parameters=[serializers.ExportQuerySerializer],
        responses={
            (200, export.CONTENT_TYPES[export.CSV].split(";")[0]): OpenApiResponse(
                OpenApiTypes.STR,
                description="The file, as an attachment named after the plan day: CSV "
                "(RFC 4180, a header line) or NDJSON (one JSON object per line).",
            ),
            (200, export.CONTENT_TYPES[export.NDJSON]): OpenApiResponse(
                OpenApiTypes.STR, description="NDJSON: one JSON object per line."
            ),
        },
    )
    def get(self, request: Request, *args, **kwargs) -> StreamingHttpResponse:
        # A plain dict (the strict check refused a repeated `format`): DRF reads an empty
        # value in a QueryDict as "not given", and `format=` is no format.
        query = serializers.ExportQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        fmt = query.validated_data["format"]
        filename = export.export_filename("jobs", plan_date(), fmt)
        rows = selectors.job_export_rows(self.filter_queryset(self.get_queryset()))
        body = export.chunks(rows, fmt)
        # The first chunk is read here, inside the request's database deadline: a database
        # that cannot answer is a 503 problem, not a download cut off after its headers.
        first = next(body, b"")
        content_type = export.CONTENT_TYPES[fmt]
        response = StreamingHttpResponse(_stream(first, body, rows), content_type=content_type)
        response["Content-Disposition"] = export.attachment_header(filename)
        return response


def _stream(first: bytes, body: Iterator[bytes], rows: Iterator[tuple]) -> Iterator[bytes]:
    try:
        yield first
        yield from body
    finally:
        # Closed with the response, even when the client went away mid-download: the
        # database cursor and its transaction end now, not whenever the generator is freed.
        rows.close()


class JobStatusSummaryView(CachedReadMixin, PlanFreshnessMixin, BaseAPIView):
    """Counts of jobs by status, internal state and workstation."""

    required_permission = VIEW_PLAN

    def cached_read_name(self, kwargs: dict) -> str:
        return "jobs-status"

    @extend_schema(responses=serializers.JobStatusSummarySerializer)
    def get(self, request: Request) -> Response:
        name = self.cached_read_name(self.kwargs)
        return cached_json(request, name, lambda: Response(selectors.job_status_summary()))


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
