"""Monitoring API views."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.base import BaseAPIView
from apps.monitoring.selectors import UNHEALTHY, health_report


class HealthView(BaseAPIView):
    """Public overall health; staff also see each component and its response time."""

    permission_classes = [AllowAny]

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
        body = report if request.user.is_staff else {"status": report["status"]}
        return Response(body, status=503 if report["status"] == UNHEALTHY else 200)
