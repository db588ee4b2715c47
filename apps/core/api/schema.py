"""The OpenAPI schema and its Swagger UI page: public (they describe, never serve data),
under the shared API rules of base.py (strict query parameters, JSON problem errors)."""

from __future__ import annotations

from drf_spectacular import views as spectacular
from rest_framework.renderers import JSONRenderer

from apps.core.api.base import StrictQueryParamsMixin
from apps.security.permissions import PUBLIC, RequiredPermission


class JsonProblemsMixin:
    """Errors are JSON problems even from a view that renders YAML or HTML."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class SchemaView(JsonProblemsMixin, StrictQueryParamsMixin, spectacular.SpectacularAPIView):
    """The OpenAPI schema (`?format=json` or yaml, `?lang=`, `?version=`)."""

    permission_classes = [RequiredPermission]
    required_permission = PUBLIC
    extra_query_params = ("lang", "version")


class DocsView(JsonProblemsMixin, StrictQueryParamsMixin, spectacular.SpectacularSwaggerSplitView):
    """Swagger UI; its init script is the same URL with `?script`."""

    permission_classes = [RequiredPermission]
    required_permission = PUBLIC
    extra_query_params = ("lang", "version", "script")
