from django.apps import AppConfig


class CacheConfig(AppConfig):
    """The sharded TTL/LRU memory engine, the tiered cache backend and CacheConfig."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.cache"
    label = "resync_cache"
