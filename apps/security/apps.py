from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Roles, API keys, CORS origins, security headers and encrypted fields."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.security"
    label = "security"

    def ready(self) -> None:
        # Importing registers the OpenAPI extension and the key check (security.E001).
        from apps.security import crypto, schema  # noqa: F401
