"""The OpenAPI schema and its Swagger UI page, both public (they describe, never serve data)."""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.security.permissions import PUBLIC, RequiredPermission


class SchemaView(SpectacularAPIView):
    permission_classes = [RequiredPermission]
    required_permission = PUBLIC


class DocsView(SpectacularSwaggerSplitView):
    permission_classes = [RequiredPermission]
    required_permission = PUBLIC
