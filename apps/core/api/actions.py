"""POST /api/v1/jobs/{id}/actions/{rerun|hold|release|cancel}/: a job action, forwarded to HWA."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.base import BaseAPIView, PlanFreshnessMixin
from apps.core.api.serializers import JobSerializer
from apps.core.errors import NotFoundError
from apps.core.models import Job
from apps.core.services.actions import JOB_ACTIONS, UNKNOWN_ACTION, job_action_perform
from apps.security.permissions import ACT_ON_JOB


class JobActionResultSerializer(serializers.Serializer):
    action = serializers.CharField()
    outcome = serializers.CharField()
    detail = serializers.CharField()
    at = serializers.DateTimeField()
    job = JobSerializer()


class JobActionView(PlanFreshnessMixin, BaseAPIView):
    """Ask HWA to rerun, hold, release or cancel one job; never retried."""

    required_permission = ACT_ON_JOB
    # HWA's answers, passed on (apps.core.hwa.errors): refused (409, 422), failed or
    # unintelligible (502), timed out (504); unreachable is the shared 503.
    problem_statuses = (409, 422, 502, 504)

    @extend_schema(
        request=None,
        responses=JobActionResultSerializer,
        parameters=[OpenApiParameter("action", str, OpenApiParameter.PATH, enum=JOB_ACTIONS)],
    )
    def post(self, request: Request, pk: int, action: str) -> Response:
        if action not in JOB_ACTIONS:
            raise NotFoundError(UNKNOWN_ACTION.format(action=action))
        job = get_object_or_404(Job.objects.select_related("workstation", "stream"), pk=pk)
        record = job_action_perform(job=job, action=action, actor=request.user)
        job.refresh_from_db()
        body = {
            "action": record.action,
            "outcome": record.outcome,
            "detail": record.detail,
            "at": record.at,
            "job": job,
        }
        return Response(JobActionResultSerializer(body).data)
