"""The OpenAPI schema and its Swagger UI page, under the shared API rules of base.py (strict
query parameters, JSON problem errors).

They describe, never serve data: public in development; in production they need a signed-in
caller (the admin's session opens the docs in a browser) unless RESYNC_PUBLIC_API_DOCS is on,
so an anonymous visitor is not handed a map of every endpoint.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular import views as spectacular
from rest_framework.renderers import JSONRenderer

from apps.core.api.base import StrictQueryParamsMixin
from apps.security import schema as jwt_schema  # noqa: F401
from apps.security.api_keys import schema as api_key_schema  # noqa: F401
from apps.security.permissions import AUTHENTICATED, PUBLIC, RequiredPermission

# The two imports above register the OpenAPI extensions that describe our authentication
# classes. Here, with the schema views that the URLconf loads (the server, `manage.py
# spectacular`, the schema checks all load it), rather than in SecurityConfig.ready: a
# process that never describes the API (the sync loop, other commands) then loads neither
# DRF's serializers nor drf-spectacular's contrib modules for them (~8 MB, ~200 modules).


class DocsPermission:
    """`required_permission` read from settings at each use (class or instance), so a
    test's setting override and the permission matrix see the current rule."""

    def __get__(self, obj: object, objtype: type | None = None) -> str:
        return PUBLIC if settings.RESYNC_PUBLIC_API_DOCS else AUTHENTICATED


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
    required_permission = DocsPermission()
    extra_query_params = ("lang", "version")


class DocsView(JsonProblemsMixin, StrictQueryParamsMixin, spectacular.SpectacularSwaggerSplitView):
    """Swagger UI; its init script is the same URL with `?script`."""

    permission_classes = [RequiredPermission]
    required_permission = DocsPermission()
    extra_query_params = ("lang", "version", "script")
