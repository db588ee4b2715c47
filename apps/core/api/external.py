"""Library views (simplejwt, drf-spectacular) under the shared API rules of base.py."""

from __future__ import annotations

from drf_spectacular import views as spectacular
from rest_framework.renderers import JSONRenderer
from rest_framework_simplejwt import views as simplejwt

from apps.core.api.base import StrictQueryParamsMixin


class TokenObtainPairView(StrictQueryParamsMixin, simplejwt.TokenObtainPairView):
    """POST username and password: an access and a refresh token."""


class TokenRefreshView(StrictQueryParamsMixin, simplejwt.TokenRefreshView):
    """POST a refresh token: a new access token."""


class TokenVerifyView(StrictQueryParamsMixin, simplejwt.TokenVerifyView):
    """POST a token: 200 if it is valid."""


class JsonProblemsMixin:
    """Errors are JSON problems even from a view that renders YAML or HTML."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class SchemaView(JsonProblemsMixin, StrictQueryParamsMixin, spectacular.SpectacularAPIView):
    """The OpenAPI schema (`?format=json` or yaml, `?lang=`, `?version=`)."""

    extra_query_params = ("lang", "version")


class SwaggerView(
    JsonProblemsMixin, StrictQueryParamsMixin, spectacular.SpectacularSwaggerSplitView
):
    """Swagger UI; its init script is the same URL with `?script`."""

    extra_query_params = ("lang", "version", "script")
