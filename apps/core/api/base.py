"""Shared API behaviour: every read-only plan endpoint derives from this."""

from __future__ import annotations

from rest_framework import viewsets


class ReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """List and retrieve, authenticated, paginated, filtered; numeric ids only."""

    lookup_value_regex = r"\d+"
