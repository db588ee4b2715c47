"""Django cache backends over the sharded memory engine.

``ShardedMemoryCache`` is the engine as a Django cache (a faster, bounded LocMemCache);
``TieredCache`` puts it in front of django-redis and keeps serving when Redis is down.

Settings (``CACHES[alias]``)::

    "BACKEND": "apps.cache.backends.ShardedMemoryCache",
    "LOCATION": "resync",          # engines are per process and shared by LOCATION
    "TIMEOUT": 300,                # the default TTL (CacheConfig.ttl_seconds once applied)
    "OPTIONS": {"MAX_MEMORY_MB": 100, "MAX_ENTRIES": 100_000, "NUM_SHARDS": 16,
                "CLEANUP_INTERVAL": 30},

The first backend built for a LOCATION creates its engine with these settings; later ones
reuse it. Live configuration changes go through ``backend.engine.reconfigure(...)``.

Key validation: Django's ``validate_key`` walks every character looking for memcached's
forbidden bytes and dominates a memory hit. Keys here never reach memcached (the engine is
a dict; Redis keys are binary safe), so ``validate_key`` keeps only the length check
(keys over 250 characters still warn, with Django's own ``CacheKeyWarning``), which also
bounds what a key costs in memory.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.cache.backends.base import (
    DEFAULT_TIMEOUT,
    BaseCache,
    CacheKeyWarning,
    default_key_func,
    memcache_key_warnings,
)
from django.core.exceptions import ImproperlyConfigured
from django_redis.cache import RedisCache
from django_redis.client.default import glob_escape
from django_redis.exceptions import ConnectionInterrupted
from django_redis.util import CacheKey
from redis.exceptions import RedisError

from apps.cache.engine import DEFAULT_TTL, ShardedCache

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 250
BAD_OPTION = "CACHES option %s must be a positive number, got %r"
ENGINE_OPTIONS = {
    # OPTIONS name: (engine argument, default, multiplier)
    "MAX_MEMORY_MB": ("max_memory_bytes", 100, 1024 * 1024),
    "MAX_ENTRIES": ("max_entries", 100_000, 1),
    "NUM_SHARDS": ("num_shards", 16, 1),
    "CLEANUP_INTERVAL": ("cleanup_interval", 30, 1),
}
_MISSING = object()

_engines: dict[str, ShardedCache] = {}
_engines_lock = threading.Lock()


def engine_for(
    location: str, ttl_seconds: float | None, options: Mapping[str, Any]
) -> ShardedCache:
    """The process's engine for ``location``, created from ``options`` on first use."""
    with _engines_lock:
        engine = _engines.get(location)
        if engine is None:
            engine = _engines[location] = ShardedCache(
                ttl_seconds=ttl_seconds, **engine_kwargs(options)
            )
        return engine


def engine_kwargs(options: Mapping[str, Any]) -> dict[str, Any]:
    """Engine arguments from backend OPTIONS; ImproperlyConfigured on a bad value."""
    kwargs = {}
    for name, (argument, default, multiplier) in ENGINE_OPTIONS.items():
        value = options.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ImproperlyConfigured(BAD_OPTION % (name, value))
        kwargs[argument] = value * multiplier
    kwargs["max_memory_bytes"] = int(kwargs["max_memory_bytes"])
    kwargs["max_entries"] = int(kwargs["max_entries"])
    kwargs["num_shards"] = int(kwargs["num_shards"])
    return kwargs


def _ttl(timeout: Any) -> Any:
    # Django's DEFAULT_TIMEOUT becomes the engine's live TTL, so reconfigure() applies.
    return DEFAULT_TTL if timeout is DEFAULT_TIMEOUT else timeout


class _FastKeys:
    """Django key building without the per-character memcached scan."""

    def _init_keys(self: Any) -> None:
        self._fast_keys = self.key_func is default_key_func
        self._prefix = f"{self.key_prefix}:{self.version}:"

    def key(self: Any, key: Any, version: int | None = None) -> str:
        """The full cache key (prefix and version), validated cheaply."""
        if version is None and self._fast_keys:
            full = f"{self._prefix}{key}"
        else:
            full = self.make_key(key, version)
        if len(full) > MAX_KEY_LENGTH:
            self.validate_key(full)
        return full

    def validate_key(self, key: str) -> None:
        """Warn about over-long keys only (see the module docstring)."""
        if len(key) > MAX_KEY_LENGTH:
            for warning in memcache_key_warnings(key):
                warnings.warn(warning, CacheKeyWarning, stacklevel=3)
                return


class ShardedMemoryCache(_FastKeys, BaseCache):
    """Django cache backend over this process's ShardedCache engine for LOCATION."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.engine = engine_for(location, self.default_timeout, params.get("OPTIONS", {}))
        self._init_keys()

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self.engine.get(self.key(key, version), default)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self.engine.set(self.key(key, version), value, _ttl(timeout))

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        return self.engine.add(self.key(key, version), value, _ttl(timeout))

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self.engine.touch(self.key(key, version), _ttl(timeout))

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self.engine.delete(self.key(key, version))

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self.engine.has(self.key(key, version))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        return self.engine.incr(self.key(key, version), delta)

    def get_or_set(
        self, key: Any, default: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> Any:
        """As Django's, but a callable default runs once per key across threads."""
        factory = default if callable(default) else lambda: default
        return self.engine.get_or_set(self.key(key, version), factory, _ttl(timeout))

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        found = {}
        for key in keys:
            value = self.engine.get(self.key(key, version), _MISSING)
            if value is not _MISSING:
                found[key] = value
        return found

    def set_many(
        self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> list[Any]:
        full = {self.key(key, version): key for key in data}
        items = {k: data[original] for k, original in full.items()}
        return [full[k] for k in self.engine.set_many(items, _ttl(timeout))]

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self.engine.delete_many(self.key(key, version) for key in keys)

    def clear(self) -> None:
        self.engine.clear()

    def stats(self) -> dict[str, Any]:
        """The engine's counters and settings."""
        return self.engine.stats()


# --- tiered ---------------------------------------------------------------------------
L2_ERRORS = (RedisError, ConnectionInterrupted, OSError)
TIERED_OPTIONS = {"L2_BACKOFF_SECONDS": 1.0, "L2_LOG_EVERY_SECONDS": 60.0}
# Delete the lock only if it still holds our token: never release another holder's lock.
_UNLOCK = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


L2_DOWN = "Redis unavailable, serving from memory (retried after the back-off): {error}"


class L2Health:
    """Counts L2 outcomes, rate-limits error logs and holds the back-off after a failure.

    One per L1 engine, shared by every thread's backend instance (Django builds a cache
    backend per thread): the counters are the process's and one failure backs off all.
    """

    def __init__(self, backoff: float, log_every: float, clock: Callable[[], float]) -> None:
        self.backoff = backoff
        self.log_every = log_every
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._last_log = -float("inf")
        self.last_error = ""
        self.counts = {"hits": 0, "misses": 0, "writes": 0, "errors": 0, "skipped": 0}

    def available(self) -> bool:
        """False during the back-off after a failure (the call is counted as skipped)."""
        if self._clock() >= self._down_until:
            return True
        self.count("skipped")
        return False

    def count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[name] += amount

    def failed(self, operation: str, exc: BaseException) -> None:
        now = self._clock()
        with self._lock:
            self.counts["errors"] += 1
            self.last_error = f"{operation}: {type(exc).__name__}: {exc}"
            self._down_until = now + self.backoff
            should_log = now - self._last_log >= self.log_every
            if should_log:
                self._last_log = now
            errors = self.counts["errors"]
        if should_log:
            logger.warning(
                "Redis cache tier unavailable (%s: %r); serving from memory. %d L2 errors so far",
                operation,
                exc,
                errors,
            )

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {**self.counts, "down": self._clock() < self._down_until}

    def down_reason(self) -> str | None:
        """Why L2 is being skipped now, or None if it is not."""
        with self._lock:
            return self.last_error if self._clock() < self._down_until else None


_l2_healths: dict[str, L2Health] = {}


def l2_health_for(name: str, backoff: float, log_every: float) -> L2Health:
    """The process's L2Health for the engine ``name``, created on first use."""
    with _engines_lock:
        health = _l2_healths.get(name)
        if health is None:
            health = _l2_healths[name] = L2Health(backoff, log_every, time.monotonic)
        return health


class TieredCache(_FastKeys, BaseCache):
    """L1 = this process's memory engine, L2 = django-redis; fails open when Redis is down.

    Reads try L1, then L2 (one round trip fetching the value and its remaining TTL, which
    caps the L1 copy's TTL). Writes go to L2, then L1. Any Redis error or timeout is caught:
    the call proceeds as an L2 miss (the caller computes from the origin), the error is
    counted and logged at most once per ``L2_LOG_EVERY_SECONDS``, and L2 is skipped for
    ``L2_BACKOFF_SECONDS`` so an outage does not cost a socket timeout per call. Those
    counters and the back-off belong to the process (one ``L2Health`` per L1 engine),
    not to the thread: Django builds a backend instance per thread. ``check_shared``
    (health) asks Redis itself, since reads answered from memory would hide an outage.

    django-redis's IGNORE_EXCEPTIONS is forced off: it turns a failed read into a silent
    miss (so failures could not be counted), logs every failure when logging is on, and has
    no back-off. While L2 is skipped, its deletes are lost too: an entry changed during an
    outage may be served stale from Redis until its TTL ends.

    The default timeout of both tiers is the engine's live TTL (``CacheConfig.ttl_seconds``
    once configured), so one setting governs both; an explicit timeout is kept in Redis and
    capped by that TTL in memory.

    ``try_lock``/``unlock`` give a short cross-process lock in Redis (``SET NX PX``) and
    ``peek_shared`` reads Redis alone: with them a miss is computed once across processes
    (see ``apps.cache.flight``).

    OPTIONS: the engine's (MAX_MEMORY_MB, ...), ``L1_LOCATION`` (engine registry name,
    default LOCATION), ``L1_TIMEOUT`` (the engine's first TTL, default TIMEOUT),
    ``L2_BACKOFF_SECONDS`` and ``L2_LOG_EVERY_SECONDS``; the rest go to django-redis.
    """

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        options = dict(params.get("OPTIONS", {}))
        l1_options = {name: options.pop(name) for name in ENGINE_OPTIONS if name in options}
        l1_location = options.pop("L1_LOCATION", location)
        l1_ttl = options.pop("L1_TIMEOUT", self.default_timeout)
        tiered = {name: options.pop(name, default) for name, default in TIERED_OPTIONS.items()}
        options["IGNORE_EXCEPTIONS"] = False
        self.engine = engine_for(f"tiered:{l1_location}", l1_ttl, l1_options)
        self.l2 = RedisCache(location, {**params, "OPTIONS": options})
        self.health = l2_health_for(
            f"tiered:{l1_location}", tiered["L2_BACKOFF_SECONDS"], tiered["L2_LOG_EVERY_SECONDS"]
        )
        self._init_keys()

    # --- reads -------------------------------------------------------------------------
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        full = self.key(key, version)
        value = self.engine.get(full, _MISSING)
        if value is not _MISSING:
            return value
        found = self._l2_fetch({full: key}, version)
        return found.get(full, default)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        found, missing = {}, {}
        for key in keys:
            full = self.key(key, version)
            value = self.engine.get(full, _MISSING)
            if value is _MISSING:
                missing[full] = key
            else:
                found[key] = value
        if missing:
            fetched = self._l2_fetch(missing, version)
            found.update((missing[full], value) for full, value in fetched.items())
        return found

    def has_key(self, key: Any, version: int | None = None) -> bool:
        if self.engine.has(self.key(key, version)):
            return True
        return bool(self._l2_call("has_key", False, key, version=version))

    # --- writes ------------------------------------------------------------------------
    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        timeout = self._timeout(timeout)
        self._l2_write("set", key, value, timeout=timeout, version=version)
        self.engine.set(self.key(key, version), value, self._l1_ttl(timeout))

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        full = self.key(key, version)
        timeout = self._timeout(timeout)
        if not self.health.available():
            return self.engine.add(full, value, self._l1_ttl(timeout))
        try:
            added = self.l2.add(key, value, timeout=timeout, version=version)
        except L2_ERRORS as exc:
            self.health.failed("add", exc)
            return self.engine.add(full, value, self._l1_ttl(timeout))
        if added:
            self.engine.set(full, value, self._l1_ttl(timeout))
        return bool(added)

    def set_many(
        self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> list[Any]:
        timeout = self._timeout(timeout)
        self._l2_write("set_many", data, timeout=timeout, version=version)
        full = {self.key(key, version): key for key in data}
        items = {k: data[original] for k, original in full.items()}
        ttl = self._l1_ttl(timeout)
        if ttl is not None and ttl <= 0:
            self.engine.delete_many(full)
            return []
        return [full[k] for k in self.engine.set_many(items, ttl)]

    def delete(self, key: Any, version: int | None = None) -> bool:
        in_l2 = self._l2_write("delete", key, version=version)
        in_l1 = self.engine.delete(self.key(key, version))
        return bool(in_l2) or in_l1

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        keys = list(keys)
        self._l2_write("delete_many", keys, version=version)
        self.engine.delete_many(self.key(key, version) for key in keys)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        timeout = self._timeout(timeout)
        touched = self._l2_write("touch", key, timeout=timeout, version=version)
        return bool(self.engine.touch(self.key(key, version), self._l1_ttl(timeout)) or touched)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        """Redis is the counter when it is up (atomic across processes); L1 otherwise."""
        full = self.key(key, version)
        if self.health.available():
            try:
                value = self.l2.incr(key, delta, version=version)
            except ValueError:
                raise
            except L2_ERRORS as exc:
                self.health.failed("incr", exc)
            else:
                self.health.count("writes")
                self.engine.delete(full)
                return value
        return self.engine.incr(full, delta)

    def get_or_set(
        self, key: Any, default: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> Any:
        """L1, then L2, then ``default()`` once per key across this process's threads."""
        full = self.key(key, version)
        value = self.engine.get(full, _MISSING)
        if value is not _MISSING:
            return value

        def compute() -> Any:
            found = self._l2_fetch({full: key}, version)
            if full in found:
                return found[full]
            value = default() if callable(default) else default
            self.set(key, value, timeout=timeout, version=version)
            return value

        return self.engine.single_flight(full, compute)

    def clear(self) -> None:
        """Empty L1 and delete this cache's keys (KEY_PREFIX) from Redis.

        Not FLUSHDB as django-redis does: the Redis database is shared with sessions,
        lockout counters and rate limits.
        """
        self.engine.clear()
        # A ready-made CacheKey is used as is: every version under this KEY_PREFIX.
        pattern = CacheKey(f"{glob_escape(self.key_prefix)}:*")
        self._l2_write("delete_pattern", pattern)

    # --- shared state across processes (Redis) ------------------------------------------
    def peek_shared(self, key: Any, default: Any = None) -> Any:
        """The value in Redis alone (another process's fresh write); ``default`` if absent
        or Redis is unavailable. Not copied into L1."""
        if not self.health.available():
            return default
        try:
            return self.l2.get(key, default)
        except L2_ERRORS as exc:
            self.health.failed("get", exc)
            return default

    def try_lock(self, key: Any, ttl_ms: int) -> str | None:
        """A token if this caller now holds the cross-process lock ``key`` (``SET NX PX``),
        None if another process holds it. With Redis unavailable every caller gets a token:
        failing open means computing locally, never waiting on a lock nobody can see."""
        token = uuid.uuid4().hex
        if not self.health.available():
            return token
        try:
            client = self.l2.client
            acquired = client.get_client(write=True).set(
                client.make_key(key), token, nx=True, px=ttl_ms
            )
        except L2_ERRORS as exc:
            self.health.failed("lock", exc)
            return token
        return token if acquired else None

    def unlock(self, key: Any, token: str) -> None:
        """Release the lock if this token still holds it (it may have expired)."""
        if not self.health.available():
            return
        try:
            client = self.l2.client
            client.get_client(write=True).eval(_UNLOCK, 1, client.make_key(key), token)
        except L2_ERRORS as exc:
            self.health.failed("unlock", exc)

    def check_shared(self) -> None:
        """Raise with the reason if Redis cannot be reached now (health); counts a failure.

        During the back-off after an error it raises at once, without a round trip."""
        reason = self.health.down_reason()
        if reason is not None:
            raise ConnectionError(L2_DOWN.format(error=reason))
        try:
            self.l2.client.get_client(write=True).ping()
        except L2_ERRORS as exc:
            self.health.failed("ping", exc)
            raise ConnectionError(L2_DOWN.format(error=self.health.last_error)) from exc

    def stats(self) -> dict[str, Any]:
        """L1 engine stats and L2 hits, misses, writes, errors and skipped calls."""
        return {"l1": self.engine.stats(), "l2": self.health.snapshot()}

    def close(self, **kwargs: Any) -> None:
        with contextlib.suppress(*L2_ERRORS):
            self.l2.close(**kwargs)

    # --- helpers -----------------------------------------------------------------------
    def _timeout(self, timeout: Any) -> Any:
        """Django's DEFAULT_TIMEOUT is the engine's live TTL, for both tiers."""
        return self.engine.ttl_seconds if timeout is DEFAULT_TIMEOUT else timeout

    def _l1_ttl(self, timeout: Any) -> Any:
        """The L1 TTL for a write: the requested one, capped by the engine's TTL."""
        timeout = self._timeout(timeout)
        cap = self.engine.ttl_seconds
        if timeout is None:
            return cap
        if cap is None:
            return timeout
        return min(timeout, cap)

    def _l2_fetch(self, keys: Mapping[str, Any], version: int | None) -> dict[str, Any]:
        """Values found in Redis for ``{full key: key}``, copied into L1 with their TTL left."""
        if not self.health.available():
            return {}
        client = self.l2.client
        try:
            redis_keys = [client.make_key(key, version=version) for key in keys.values()]
            pipe = client.get_client(write=False).pipeline(transaction=False)
            for redis_key in redis_keys:
                pipe.get(redis_key)
                pipe.pttl(redis_key)
            replies = pipe.execute()
            found = {}
            for index, full in enumerate(keys):
                raw, pttl = replies[2 * index], replies[2 * index + 1]
                if raw is not None:
                    found[full] = value = client.decode(raw)
                    self._fill_l1(full, value, pttl)
        except L2_ERRORS as exc:
            self.health.failed("get", exc)
            return {}
        self.health.count("hits", len(found))
        self.health.count("misses", len(keys) - len(found))
        return found

    def _fill_l1(self, full: str, value: Any, pttl: int) -> None:
        remaining = None if pttl == -1 else pttl / 1000  # -1: no expiry in Redis
        if remaining is not None and remaining <= 0:
            return
        cap = self.engine.ttl_seconds
        ttl = remaining if cap is None else cap if remaining is None else min(remaining, cap)
        self.engine.set(full, value, ttl)

    def _l2_write(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        result = self._l2_call(operation, _MISSING, *args, **kwargs)
        if result is _MISSING:
            return None
        self.health.count("writes")
        return result

    def _l2_call(self, operation: str, fallback: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.health.available():
            return fallback
        try:
            result = getattr(self.l2, operation)(*args, **kwargs)
        except L2_ERRORS as exc:
            self.health.failed(operation, exc)
            return fallback
        return result
