"""The plan generation: a counter that moves whenever a plan sync changes the mirror.

Cached API reads put the generation in their keys, so after a sync calls
``plan_generation_bump()`` every process reads new keys and nothing older than that sync is
served, whatever the cache TTL. The counter lives in the default cache: Redis (one atomic
INCR shared by every process) when REDIS_URL is set, this process's memory otherwise.

Each process re-reads the counter at most once per ``MAX_AGE_S`` (one Redis round trip per
second, not per request), so other processes follow a bump within that time; the process
that bumps sees its bump at once. A missing counter (first use, Redis flushed) starts from
the current time in milliseconds rather than 0, so a reset never reuses an old generation
whose entries may still be cached.
"""

from __future__ import annotations

import threading
import time

from django.core.cache import caches

GENERATION_KEY = "plan:generation"
MAX_AGE_S = 1.0

_lock = threading.Lock()
_memo: tuple[int, float] = (0, -1.0)  # (generation, monotonic time it goes stale)


def plan_generation() -> int:
    """The current plan generation (at most MAX_AGE_S old in this process)."""
    generation, stale_at = _memo
    if time.monotonic() < stale_at:
        return generation
    cache = caches["default"]
    read = getattr(cache, "peek_shared", cache.get)
    value = read(GENERATION_KEY, None)
    if value is None:
        cache.add(GENERATION_KEY, _seed(), timeout=None)
        value = read(GENERATION_KEY, None)
        if value is None:  # Redis down and nothing in memory yet
            value = cache.get(GENERATION_KEY, 0)
    return _remember(int(value))


def plan_generation_bump() -> int:
    """Move to a new generation (after a sync that changed something); returns it."""
    cache = caches["default"]
    cache.add(GENERATION_KEY, _seed(), timeout=None)
    try:
        value = cache.incr(GENERATION_KEY)
    except ValueError:  # evicted between add and incr
        cache.set(GENERATION_KEY, value := _seed(), timeout=None)
    return _remember(int(value))


def _seed() -> int:
    return int(time.time() * 1000)


def _remember(generation: int) -> int:
    global _memo
    with _lock:
        _memo = (generation, time.monotonic() + MAX_AGE_S)
    return generation


def forget() -> None:
    """Drop this process's remembered generation (tests; after clearing the cache)."""
    global _memo
    with _lock:
        _memo = (0, -1.0)
