"""OpenAPI description of Resync's authentication classes (drf-spectacular extensions)."""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class CachedUserJWTScheme(SimpleJWTScheme):
    """Our JWT authentication is simplejwt's bearer scheme, documented as such."""

    target_class = "apps.security.authentication.CachedUserJWTAuthentication"
