"""Cache test fixtures: a hand-driven clock and engines built on it."""

from __future__ import annotations

import pytest

from apps.cache.engine import ShardedCache


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
