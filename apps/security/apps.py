from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SecurityConfig(AppConfig):
    """Roles, API keys, CORS origins, security headers and encrypted fields."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.security"
    label = "security"

    def ready(self) -> None:
        # Importing registers the system checks (security.E001 keys, E2xx JWT, W010 throttles)
        # and the OpenAPI extensions.
        from apps.security import checks, crypto, schema, throttling  # noqa: F401
        from apps.security.api_keys import schema as api_key_schema  # noqa: F401

        post_migrate.connect(_create_cache_tables, sender=self)


def _create_cache_tables(using: str, **kwargs) -> None:
    # The "shared" cache is a database table when Redis is not configured: `migrate` makes it.
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)
