"""Shared API behaviour: every API view derives from these."""

from __future__ import annotations

from rest_framework import viewsets
from rest_framework.views import APIView

from apps.core.api.query_params import allowed_query_params, query_params_check
from apps.core.selectors.sync import plan_freshness

SYNCED_AT_HEADER = "X-Plan-Synced-At"
SYNC_STATUS_HEADER = "X-Plan-Sync-Status"


class StrictQueryParamsMixin:
    """A query parameter the view does not take is a 400 naming it (see query_params).

    Checked after authentication and permissions, so an anonymous caller still gets 401, and
    only for a method the view has (`TRACE /jobs/?status=Error` is a 405, not a 400).
    """

    # Parameters a view reads itself, beyond filters, ordering, pagination and format.
    extra_query_params: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if getattr(self, request.method.lower(), None) is None:
            return  # no handler for this method: dispatch answers 405, whatever the query
        query_params_check(request.query_params, allowed_query_params(self))


class BaseAPIView(StrictQueryParamsMixin, APIView):
    """Base of every API view that is not a viewset."""


class PlanFreshnessMixin:
    """Says how fresh the mirror is on every response: served even when HWA is down."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        freshness = plan_freshness()
        if freshness.synced_at is not None:
            response[SYNCED_AT_HEADER] = freshness.synced_at.isoformat()
        response[SYNC_STATUS_HEADER] = freshness.status
        return response


class ReadOnlyViewSet(StrictQueryParamsMixin, PlanFreshnessMixin, viewsets.ReadOnlyModelViewSet):
    """List and retrieve, authenticated, paginated, filtered; numeric ids only."""

    lookup_value_regex = r"\d+"
