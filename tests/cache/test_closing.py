"""Django's per-request close of the caches runs only if a configured cache needs it."""

from __future__ import annotations

import pytest
from django.core import signals
from django.core.cache import close_caches

from apps.cache.closing import closing_needed, skip_needless_closing

REDIS = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/9"}
TIERED = {"BACKEND": "apps.cache.backends.TieredCache", "LOCATION": "redis://127.0.0.1:6379/9"}


@pytest.mark.parametrize(
    ("config", "needed"),
    [
        ({"BACKEND": "apps.cache.backends.ShardedMemoryCache"}, False),
        ({"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, False),
        ({"BACKEND": "django.core.cache.backends.db.DatabaseCache"}, False),
        (REDIS, False),
        (TIERED, False),
        ({**REDIS, "OPTIONS": {"CLOSE_CONNECTION": True}}, True),
        ({**TIERED, "OPTIONS": {"CLOSE_CONNECTION": True}}, True),
        ({"BACKEND": "django.core.cache.backends.redis.RedisCache"}, False),  # no close()
        # A close() of its own: closed after each request, as Django does.
        ({"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache"}, True),
    ],
)
def test_which_caches_need_closing(config, needed):
    assert closing_needed(config) is needed


def test_the_setting_that_makes_django_redis_close_counts(settings):
    settings.DJANGO_REDIS_CLOSE_CONNECTION = True
    assert closing_needed(REDIS) is True


def _connected() -> bool:
    return close_caches in signals.request_finished._live_receivers(None)[0]


@pytest.fixture
def receiver_restored():
    yield
    signals.request_finished.disconnect(close_caches)
    skip_needless_closing()


def test_resync_s_caches_are_not_closed_after_each_request(receiver_restored):
    assert not _connected()  # the project's own settings, decided at start-up


def test_a_cache_that_needs_closing_keeps_django_s_receiver(settings, receiver_restored):
    signals.request_finished.connect(close_caches)
    settings.CACHES = {**settings.CACHES, "memcached": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache"}}  # fmt: skip
    assert skip_needless_closing() is False
    assert _connected()
