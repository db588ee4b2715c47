from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The plan mirror, the HWA client and simulator, plan sync and runtime configuration."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        from apps.core.config_versions import watcher
        from apps.core.selectors.sync import check_hwa_sync
        from apps.core.services import hwa
        from apps.monitoring.selectors import CHECKS, DEGRADED

        watcher.register(hwa.CONFIG_AREA, hwa.client_invalidate)
        CHECKS["hwa_sync"] = (check_hwa_sync, DEGRADED)
