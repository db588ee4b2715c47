"""Compute a missing cache entry once, across threads and across processes.

``get_or_compute(key, compute)`` returns the cached value, or runs ``compute()`` and caches
its result. Two guards stop a stampede when many requests miss the same key at once:

- in this process, the engine's single flight: one thread computes, the others wait for
  its result;
- across processes (TieredCache only), a short Redis lock (``SET NX PX``): the process
  holding it computes, the others poll Redis briefly for its result and compute
  themselves only if it does not arrive within ``WAIT_S`` (a slow or dead holder must not
  stall them for long). With Redis down, each process computes once (fail open).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

# A holder that crashed frees the lock after this long.
LOCK_TTL_MS = 10_000
# How long other processes wait for the holder's result before computing it themselves.
WAIT_S = 5.0
POLL_S = 0.01
_MISSING = object()


def get_or_compute(
    key: str,
    compute: Callable[[], Any],
    *,
    timeout: Any = DEFAULT_TIMEOUT,
    cache: BaseCache | None = None,
) -> Any:
    """The cached value of ``key`` (default cache unless given), computed once when missing."""
    cache = caches["default"] if cache is None else cache
    if not hasattr(cache, "try_lock"):
        return cache.get_or_set(key, compute, timeout)
    return cache.get_or_set(key, lambda: _compute_once(cache, key, compute), timeout)


def _compute_once(cache: Any, key: str, compute: Callable[[], Any]) -> Any:
    lock = f"lock:{key}"
    token = cache.try_lock(lock, LOCK_TTL_MS)
    if token is None:
        value = _wait_for(cache, key)
        if value is not _MISSING:
            return value
        token = cache.try_lock(lock, LOCK_TTL_MS)
    try:
        return compute()
    finally:
        if token is not None:
            cache.unlock(lock, token)


def _wait_for(cache: Any, key: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        time.sleep(POLL_S)
        value = cache.peek_shared(key, _MISSING)
        if value is not _MISSING:
            return value
    return _MISSING
