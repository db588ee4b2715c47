from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Roles, API keys, CORS origins, security headers and encrypted fields."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.security"
    label = "security"

    def ready(self) -> None:
        from apps.security import checks, schema  # noqa: F401 - register checks, OpenAPI extension
