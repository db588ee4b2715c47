"""Alert reads."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.monitoring.alerts.models import Alert


def alert_list() -> QuerySet[Alert]:
    """Every alert (the API filters, orders and paginates: open ones first by default)."""
    return Alert.objects.all()
