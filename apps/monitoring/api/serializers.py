"""Serializers of the monitoring API. Fields are listed explicitly."""

from __future__ import annotations

from rest_framework import serializers

from apps.monitoring.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "auth",
            "source",
            "action",
            "target",
            "method",
            "route",
            "status",
            "duration_ms",
            "outcome",
            "detail",
            "before",
            "after",
            "request_id",
            "ip",
            "prev_hash",
            "hash",
        ]
