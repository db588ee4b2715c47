"""Shared API behaviour: every plan endpoint derives from these."""

from __future__ import annotations

from rest_framework import viewsets

from apps.core.selectors.sync import plan_freshness

SYNCED_AT_HEADER = "X-Plan-Synced-At"
SYNC_STATUS_HEADER = "X-Plan-Sync-Status"


class PlanFreshnessMixin:
    """Says how fresh the mirror is on every response: served even when HWA is down."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        freshness = plan_freshness()
        if freshness.synced_at is not None:
            response[SYNCED_AT_HEADER] = freshness.synced_at.isoformat()
        response[SYNC_STATUS_HEADER] = freshness.status
        return response


class ReadOnlyViewSet(PlanFreshnessMixin, viewsets.ReadOnlyModelViewSet):
    """List and retrieve, authenticated, paginated, filtered; numeric ids only."""

    lookup_value_regex = r"\d+"
