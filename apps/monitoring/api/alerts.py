"""GET /api/v1/alerts/: open and recent alerts, for anyone who reads the plan."""

from __future__ import annotations

from rest_framework import generics, serializers

from apps.core.api.base import StrictQueryParamsMixin
from apps.monitoring.alerts.filters import AlertFilter
from apps.monitoring.alerts.models import Alert
from apps.monitoring.alerts.selectors import alert_list
from apps.security.permissions import VIEW_PLAN


class AlertSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="rule_name", help_text="The rule's name when it opened.")

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "rule_id",
            "state",
            "severity",
            "metric",
            "scope",
            "comparison",
            "threshold",
            "value",
            "last_value",
            "summary",
            "opened_at",
            "resolved_at",
            "last_evaluated_at",
            "notified",
        ]
        read_only_fields = fields


class AlertListView(StrictQueryParamsMixin, generics.ListAPIView):
    """Alerts: open ones first, then the most recently opened. Filters `state`, `severity`,
    `since` (open at or after it)."""

    required_permission = VIEW_PLAN
    queryset = alert_list()
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    ordering_fields = ["id", "opened_at", "resolved_at"]
    ordering = ["state", "-opened_at", "-id"]
