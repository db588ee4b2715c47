"""CORS origin reads."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.core.errors import NotFoundError
from apps.security.cors.models import CorsOrigin

NO_SUCH_ORIGIN = "No CORS origin with id {pk}."


def cors_origin_list() -> QuerySet[CorsOrigin]:
    """Every origin row, enabled or not, by origin."""
    return CorsOrigin.objects.order_by("origin")


def cors_origin_get(*, pk: int) -> CorsOrigin:
    """The row with this id, or a 404."""
    try:
        return CorsOrigin.objects.get(pk=pk)
    except CorsOrigin.DoesNotExist:
        raise NotFoundError(NO_SUCH_ORIGIN.format(pk=pk)) from None


def cors_enabled_origins() -> frozenset[str]:
    """The origins browsers may call the API from (one query; the allow-list's source)."""
    return frozenset(CorsOrigin.objects.filter(enabled=True).values_list("origin", flat=True))
