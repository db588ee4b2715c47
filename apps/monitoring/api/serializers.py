"""Serializers of the monitoring API. Fields are listed explicitly."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.monitoring.models import AuditEvent, SecurityEvent


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


class SecurityEventSerializer(serializers.ModelSerializer):
    """One (address, kind, minute) of security events, with the first request's details."""

    severity = serializers.ChoiceField(
        choices=[label for _value, label in SecurityEvent.Severity.choices],
        source="get_severity_display",
        read_only=True,
    )
    ip = serializers.SerializerMethodField(help_text="Client address; null when unknown.")
    user = serializers.SerializerMethodField(help_text="The first signed-in user seen, if any.")

    class Meta:
        model = SecurityEvent
        fields = [
            "id",
            "kind",
            "severity",
            "ip",
            "user",
            "path",
            "pattern",
            "request_id",
            "detail",
            "count",
            "first_seen",
            "last_seen",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_ip(self, event: SecurityEvent) -> str | None:
        return event.ip or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_user(self, event: SecurityEvent) -> str | None:
        return event.username or None
