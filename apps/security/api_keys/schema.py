"""OpenAPI description of the API key scheme (drf-spectacular extension)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """`Authorization: Api-Key <key>`."""

    target_class = "apps.security.api_keys.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "An API key for integrations, sent as `Api-Key <key>`. It acts as its owner, "
                "limited to its scopes (plan:read, jobs:operate, config:admin, monitoring:read)."
            ),
        }
