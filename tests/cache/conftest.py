"""Cache tests need only configured Django settings, not a database.

When the project's settings cannot be imported (the rest of the project is still being
assembled, or pytest runs with ``-p no:django``), minimal settings are configured instead.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.cache.engine import ShardedCache

try:
    settings.INSTALLED_APPS  # noqa: B018 - imports DJANGO_SETTINGS_MODULE if it is set
except (ImportError, ImproperlyConfigured):
    settings.configure(USE_TZ=True, CACHES={})


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_engine(clock: FakeClock):
    """Build engines on the fake clock, without the background cleaner."""

    def make(**kwargs) -> ShardedCache:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("start_cleaner", False)
        return ShardedCache(**kwargs)

    return make
