"""Monitoring API views."""

from __future__ import annotations

from django.db import DatabaseError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.base import BaseAPIView, StrictQueryParamsMixin
from apps.monitoring.api.serializers import AuditEventSerializer
from apps.monitoring.filters import AuditEventFilter
from apps.monitoring.selectors import UNHEALTHY, audit_event_list, health_report
from apps.security.permissions import PUBLIC, VIEW_MONITORING, request_allows
from apps.security.throttling import ClientIpThrottle


class HealthView(BaseAPIView):
    """Public overall health; monitoring readers also see each component and its timing."""

    required_permission = PUBLIC
    throttle_classes = [ClientIpThrottle]

    def perform_authentication(self, request: Request) -> None:
        """Authenticate lazily (in `get`): health must answer while users cannot be read."""

    @extend_schema(
        responses=inline_serializer(
            "Health",
            {
                "status": serializers.ChoiceField(["healthy", "degraded", "unhealthy"]),
                "components": serializers.DictField(required=False),
            },
        )
    )
    def get(self, request: Request) -> Response:
        report = health_report()
        body = report if _shows_details(request) else {"status": report["status"]}
        return Response(body, status=503 if report["status"] == UNHEALTHY else 200)


def _shows_details(request: Request) -> bool:
    try:
        return request_allows(request, VIEW_MONITORING)
    except DatabaseError:  # the session or user row cannot be read: answer as to anyone
        return False


class AuditEventListView(StrictQueryParamsMixin, generics.ListAPIView):
    """The audit log for auditors: requests and changes, filtered, ordered, paginated."""

    required_permission = VIEW_MONITORING
    queryset = audit_event_list()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering_fields = ["at", "id"]
    ordering = ["-at", "-id"]
