from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The plan mirror, the HWA client and simulator, plan sync and runtime configuration."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.core"
    label = "core"
