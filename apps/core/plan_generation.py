"""A shared counter that says "the plan mirror changed": cached plan reads key on it.

The sync bumps it after a run that changed something; readers put `plan_generation()` in
their cache keys, so every process stops using stale entries at once (the counter lives in
the default cache: Redis when configured, shared by every process).
"""

from __future__ import annotations

from django.core.cache import cache

KEY = "plan:generation"


def plan_generation() -> int:
    """The current generation (0 until the first bump)."""
    value = cache.get(KEY)
    return int(value) if value is not None else 0


def plan_generation_bump() -> int:
    """Move to a new generation; returns it."""
    try:
        return cache.incr(KEY)
    except ValueError:  # missing key: start it, unless another process just did
        if cache.add(KEY, 1, timeout=None):
            return 1
        return cache.incr(KEY)
