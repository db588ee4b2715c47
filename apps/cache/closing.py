"""Caches are closed after a request only when closing one would do something.

Django closes every cache a thread has used when each request finishes (its `close_caches`
receiver), for backends that hold a connection per request (memcached). None of Resync's
do: the memory engines hold no connection; the database cache uses the request's database
connection, which Django closes on its own; django-redis keeps its pooled connections
unless CLOSE_CONNECTION is set (and the tiered cache closes only its Redis tier). Listing
the thread's caches (an asgiref Local lookup per alias) to call a close that does nothing
was ~7 % of a cached plan read (issue 12's profile), so when no configured cache needs it,
the receiver is disconnected. Decided once, at start-up, from settings.CACHES.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.cache import close_caches
from django.core.cache.backends.base import BaseCache
from django.utils.module_loading import import_string
from django_redis.cache import RedisCache as DjangoRedisCache

from apps.cache.backends import TieredCache


def closing_needed(config: Mapping[str, Any]) -> bool:
    """True if a cache configured so acts on close() (unknown backends are assumed to)."""
    backend = import_string(config["BACKEND"])
    if backend.close is BaseCache.close:  # the base class's: does nothing
        return False
    if issubclass(backend, (DjangoRedisCache, TieredCache)):
        default = getattr(settings, "DJANGO_REDIS_CLOSE_CONNECTION", False)
        return bool(config.get("OPTIONS", {}).get("CLOSE_CONNECTION", default))
    return True


def skip_needless_closing() -> bool:
    """Disconnect Django's per-request close of the caches if none needs it; True if so."""
    if any(closing_needed(config) for config in settings.CACHES.values()):
        return False
    signals.request_finished.disconnect(close_caches)
    return True
