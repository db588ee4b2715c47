from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The plan mirror, the HWA client and simulator, plan sync and runtime configuration."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        from apps.core import checks, plan_generation, presets  # noqa: F401  (checks self-register)
        from apps.core.config_versions import watcher
        from apps.core.pools import CONFIG_AREA, hwa_http
        from apps.core.selectors.assistant_config import check_assistant_model
        from apps.core.selectors.sync import check_hwa_sync, check_sync_heartbeat
        from apps.core.services import assistant_config, hwa
        from apps.core.services.pools import pool_config_apply, pool_preset_targets
        from apps.monitoring.selectors import health_check_register

        watcher.register(CONFIG_AREA, pool_config_apply)
        for target in pool_preset_targets():
            presets.register(target)
        watcher.register(hwa.CONFIG_AREA, hwa.client_invalidate)
        watcher.register(assistant_config.CONFIG_AREA, assistant_config.client_invalidate)
        # Other processes' writes to the mirror: cached plan reads move to the new generation.
        watcher.register(plan_generation.AREA, plan_generation.plan_generation_follow)
        hwa_http.on_change.append(hwa.client_pool_changed)
        # The mirror is served as last synced when syncing fails: degraded, never unhealthy.
        health_check_register("hwa_sync", check_hwa_sync)
        health_check_register("sync_heartbeat", check_sync_heartbeat, ready=True)
        # The assistant being unable to reach its model degrades only the assistant.
        health_check_register("assistant_model", check_assistant_model)
