from django.apps import AppConfig


class CacheAppConfig(AppConfig):
    """The sharded TTL/LRU memory engine, the tiered cache backend and CacheConfig."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.cache"
    label = "resync_cache"

    def ready(self) -> None:
        from apps.cache import services
        from apps.cache.closing import skip_needless_closing
        from apps.core import presets
        from apps.core.config_versions import watcher

        watcher.register(services.CONFIG_AREA, services.cache_config_apply)
        presets.register(services.PRESET)
        skip_needless_closing()
