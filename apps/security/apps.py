from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SecurityConfig(AppConfig):
    """Roles, API keys, CORS origins, security headers and encrypted fields."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.security"
    label = "security"

    def ready(self) -> None:
        # Importing registers the system checks (security.E001 keys, E2xx JWT, W010 throttles,
        # E31x CORS). The OpenAPI extensions register with the schema views instead
        # (apps.core.api.schema), loaded with the URLconf by whatever describes the API.
        from corsheaders.signals import check_request_enabled

        from apps.core.config_versions import watcher
        from apps.security import checks, crypto, throttling  # noqa: F401
        from apps.security.cors import allowlist, services
        from apps.security.cors import checks as cors_checks  # noqa: F401

        post_migrate.connect(_create_cache_tables, sender=self)
        post_migrate.connect(_seed_cors_origins, sender=self)
        # django-cors-headers asks the in-memory allow-list, reloaded on each "cors" change.
        watcher.register(services.CONFIG_AREA, allowlist.cors_allowlist_reload)
        check_request_enabled.connect(allowlist.cors_request_allowed)


def _create_cache_tables(using: str, **kwargs) -> None:
    # The "shared" cache is a database table when Redis is not configured: `migrate` makes it.
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


def _seed_cors_origins(**kwargs) -> None:
    # CORS_ALLOWED_ORIGINS adds the rows it lists that are missing, at every `migrate`.
    from django.conf import settings

    from apps.security.cors.services import cors_origins_seed

    cors_origins_seed(origins=settings.RESYNC_CORS_SEED_ORIGINS)
