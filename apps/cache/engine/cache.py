"""ShardedCache: a memory-bounded TTL/LRU cache split into independently locked shards.

Mutable values are stored pickled (as Django's LocMemCache does), so the memory count is
exact and callers cannot mutate a cached object through a reference they kept. Immutable
values (str, bytes, int, float, bool, None — e.g. rendered JSON) are stored as they are:
nobody can change them, so a hit returns the object itself without a pickle round trip.
``max_entries`` and ``max_memory_bytes`` are split evenly across shards (each shard gets
``total // num_shards``) and enforced on every write by evicting the shard's least recently
used entries; a value bigger than a shard's byte budget is rejected and counted. See
``shard.py`` for exactly what one entry costs.

Concurrency: a key's shard is picked by ``hash(key) % num_shards`` and every operation holds
that one shard's lock only. Resizes and stats visit shards one after another.
"""

from __future__ import annotations

import os
import pickle
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from apps.cache.engine.cleaner import Cleaner
from apps.cache.engine.migration import Migration
from apps.cache.engine.shard import COUNTERS, FOREVER, Shard, ShardRetired

KEY_NOT_FOUND = "Key '%s' not found"
BAD_SETTING = "%s must be a positive number, got %r"

_dumps = pickle.dumps
_loads = pickle.loads
_PROTOCOL = pickle.HIGHEST_PROTOCOL
# Exact types only: a subclass of str or int may carry mutable state.
_IMMUTABLE = frozenset({str, bytes, int, float, bool, type(None)})


def _pack(value: Any) -> tuple[Any, bool]:
    """(stored, pickled): immutable values as they are, the rest pickled."""
    if value.__class__ in _IMMUTABLE:
        return value, False
    return _dumps(value, _PROTOCOL), True


def _unpack(entry: tuple) -> Any:
    return _loads(entry[0]) if entry[2] else entry[0]


class _Default:
    """The 'use the engine's configured TTL' marker."""

    def __repr__(self) -> str:
        return "DEFAULT_TTL"


DEFAULT_TTL: Any = _Default()
_MISSING = object()
_UNCHANGED: Any = object()


@dataclass(frozen=True)
class CleanupResult:
    """What one cleanup pass did."""

    removed: int
    pending: bool


class ShardedCache:
    """N shards, one lock each; TTL and LRU kept apart; bounded by entries and bytes."""

    def __init__(
        self,
        *,
        ttl_seconds: float | None = 300,
        max_entries: int = 100_000,
        max_memory_bytes: int = 100 * 1024 * 1024,
        num_shards: int = 16,
        cleanup_interval: float | None = 30,
        clock: Callable[[], float] = time.monotonic,
        start_cleaner: bool = True,
    ) -> None:
        _check_positive("max_entries", max_entries)
        _check_positive("max_memory_bytes", max_memory_bytes)
        _check_positive("num_shards", num_shards)
        self._clock = clock
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._max_memory_bytes = max_memory_bytes
        self.cleanup_interval = cleanup_interval
        shards = self._new_shards(num_shards, max_entries, max_memory_bytes)
        # (shards, migration) swapped as one object so readers never see half a resize.
        self._topology: tuple[list[Shard], Migration | None] = (shards, None)
        self._config_lock = threading.Lock()
        self._flight_lock = threading.Lock()
        self._flights: dict[str, Future[tuple]] = {}
        self._start_cleaner = start_cleaner
        self._cleaner: Cleaner | None = None
        self._cleaner_lock = threading.Lock()
        _ENGINES.add(self)

    # --- reads -------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        """Return the cached value, or ``default``; a hit never extends the entry's TTL."""
        shards, migration = self._topology
        if migration is not None:
            migration.ensure_moved_for(key)
        shard = shards[hash(key) % len(shards)]
        now = self._clock()
        # The hit path, inlined for speed; anything else goes through Shard.get, which
        # counts the miss and removes an expired entry.
        shard.acquire()
        entry = shard.data.get(key)
        if entry is not None and entry[1] > now:
            shard.data.move_to_end(key)
            shard.hits += 1
            shard.release()
            return _loads(entry[0]) if entry[2] else entry[0]
        shard.release()
        entry = shard.get(key, now)
        return default if entry is None else _unpack(entry)

    def has(self, key: str) -> bool:
        """True if a live entry exists (counted as a hit or miss, like a get)."""
        return self._shard(key).get(key, self._clock()) is not None

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The live entries among ``keys``."""
        found = {}
        for key in keys:
            value = self.get(key, _MISSING)
            if value is not _MISSING:
                found[key] = value
        return found

    def __len__(self) -> int:
        return sum(len(shard.data) for shard in self._topology[0])

    # --- writes ------------------------------------------------------------------------
    def set(self, key: str, value: Any, ttl: float | None = DEFAULT_TTL) -> bool:
        """Store ``value``; ttl None keeps it until evicted, ttl <= 0 only removes the key.

        Returns False when nothing was stored (ttl <= 0 or value too large).
        """
        expires_at = self._deadline(ttl)
        if expires_at is None:
            self.delete(key)
            return False
        stored, pickled = _pack(value)
        return self._store(key, stored, pickled, expires_at)

    def _store(self, key: str, stored: Any, pickled: bool, expires_at: float) -> bool:
        self._ensure_cleaner()
        return self._on_shard(key, lambda shard: shard.set(key, stored, expires_at, pickled))

    def add(self, key: str, value: Any, ttl: float | None = DEFAULT_TTL) -> bool:
        """Store ``value`` only if the key has no live entry; True if it did.

        As in Django's memory cache, ttl <= 0 on a missing key reports success and stores
        nothing.
        """
        expires_at = self._deadline(ttl)
        if expires_at is None:
            return not self.has(key)
        stored, pickled = _pack(value)
        self._ensure_cleaner()
        now = self._clock()
        return self._on_shard(key, lambda shard: shard.add(key, stored, expires_at, pickled, now))

    def set_many(self, items: Mapping[str, Any], ttl: float | None = DEFAULT_TTL) -> list[str]:
        """Store every item; returns the keys that were not stored (too large)."""
        expires_at = self._deadline(ttl)
        if expires_at is None:
            self.delete_many(items)
            return []
        return [
            key for key, value in items.items() if not self._store(key, *_pack(value), expires_at)
        ]

    def delete(self, key: str) -> bool:
        """Remove the key; True if an entry was there."""
        return self._on_shard(key, lambda shard: shard.delete(key))

    def delete_many(self, keys: Iterable[str]) -> int:
        """Remove every key; returns how many entries were there."""
        return sum(self.delete(key) for key in keys)

    def touch(self, key: str, ttl: float | None = DEFAULT_TTL) -> bool:
        """Give a live entry a new TTL from now; True if the key was live."""
        expires_at = self._deadline(ttl)
        if expires_at is None:
            return self.delete(key)
        now = self._clock()
        return self._on_shard(key, lambda shard: shard.touch(key, expires_at, now))

    def incr(self, key: str, delta: int = 1) -> Any:
        """Add ``delta`` to a live value atomically, keeping its TTL; ValueError if missing."""
        result: list[Any] = []

        def update(entry: tuple) -> tuple[Any, bool]:
            result.append(_unpack(entry) + delta)
            return _pack(result[0])

        now = self._clock()
        if self._on_shard(key, lambda shard: shard.replace(key, now, update)) is None:
            raise ValueError(KEY_NOT_FOUND % key)
        return result[0]

    def clear(self) -> None:
        """Remove every entry."""
        shards, migration = self._topology
        for shard in (*shards, *(migration.old if migration else ())):
            shard.clear()

    # --- stampede protection -----------------------------------------------------------
    def get_or_set(
        self, key: str, factory: Callable[[], Any], ttl: float | None = DEFAULT_TTL
    ) -> Any:
        """Return the cached value or compute it once per key across this process's threads.

        Concurrent callers missing the same key wait for one ``factory()`` call and each get
        their own copy of its result; if it raises, every waiter gets the exception and
        nothing is cached.
        """
        value = self.get(key, _MISSING)
        if value is not _MISSING:
            return value

        def compute() -> Any:
            value = factory()
            self.set(key, value, ttl)
            return value

        return self.single_flight(key, compute)

    def single_flight(self, key: str, compute: Callable[[], Any]) -> Any:
        """Run ``compute`` for ``key`` unless a live entry appeared or another thread runs it."""
        with self._flight_lock:
            future = self._flights.get(key)
            leader = future is None
            if leader:
                future = self._flights[key] = Future()
        if not leader:
            return _unpack(future.result())
        try:
            # A leader that started just after the previous one finished finds its value.
            entry = self._shard(key).peek(key, self._clock())
            if entry is None:
                value = compute()
                stored, pickled = _pack(value)
                entry = (stored, 0.0, pickled)  # waiters unpack their own copy
            else:
                value = _unpack(entry)
            future.set_result(entry)
            return value
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            with self._flight_lock:
                del self._flights[key]

    # --- maintenance -------------------------------------------------------------------
    def cleanup(self, max_items: int = 1000) -> CleanupResult:
        """Remove expired entries, looking at most ``max_items`` deadlines per shard."""
        removed, pending = 0, False
        for shard in self._topology[0]:
            count, more = shard.cleanup(self._clock(), max_items)
            removed += count
            pending = pending or more
        return CleanupResult(removed, pending)

    def reconfigure(
        self,
        *,
        ttl_seconds: float | None = _UNCHANGED,
        max_entries: int | None = None,
        max_memory_bytes: int | None = None,
        num_shards: int | None = None,
        cleanup_interval: float | None = _UNCHANGED,
    ) -> None:
        """Apply new settings live; omitted ones are kept.

        Smaller bounds evict least recently used entries at once; a new shard count moves
        every live entry to its new shard. Existing entries keep their deadlines.
        """
        with self._config_lock:
            max_entries = self._max_entries if max_entries is None else max_entries
            max_memory_bytes = max_memory_bytes or self._max_memory_bytes
            shards = self._topology[0]
            num_shards = num_shards or len(shards)
            for name, value in (
                ("max_entries", max_entries),
                ("max_memory_bytes", max_memory_bytes),
                ("num_shards", num_shards),
            ):
                _check_positive(name, value)
            if ttl_seconds is not _UNCHANGED:
                self._ttl = ttl_seconds
            if cleanup_interval is not _UNCHANGED:
                self.cleanup_interval = cleanup_interval
            self._max_entries, self._max_memory_bytes = max_entries, max_memory_bytes
            if num_shards != len(shards):
                self._reshard(shards, num_shards)
            else:
                for shard in shards:
                    shard.set_bounds(max_memory_bytes // num_shards, max_entries // num_shards)

    def stats(self) -> dict[str, Any]:
        """Per-shard and total counters, entries and bytes, plus the current settings."""
        per_shard = [shard.snapshot() for shard in self._topology[0]]
        total = {name: sum(s[name] for s in per_shard) for name in per_shard[0]}
        total["evictions"] = total["evictions_memory"] + total["evictions_entries"]
        return {
            "config": self.config(),
            "total": total,
            "shards": per_shard,
        }

    def config(self) -> dict[str, Any]:
        """The settings in force."""
        return {
            "ttl_seconds": self._ttl,
            "max_entries": self._max_entries,
            "max_memory_bytes": self._max_memory_bytes,
            "num_shards": len(self._topology[0]),
            "cleanup_interval": self.cleanup_interval,
        }

    @property
    def ttl_seconds(self) -> float | None:
        """The TTL applied when a write does not give one (None: no expiry)."""
        return self._ttl

    def close(self) -> None:
        """Stop the background cleaner (the entries stay usable)."""
        with self._cleaner_lock:
            if self._cleaner is not None:
                self._cleaner.stop()
                self._cleaner = None

    # --- helpers -----------------------------------------------------------------------
    def _shard(self, key: str) -> Shard:
        shards, migration = self._topology
        if migration is not None:
            migration.ensure_moved_for(key)
        return shards[hash(key) % len(shards)]

    def _on_shard(self, key: str, operation: Callable[[Shard], Any]) -> Any:
        # A writer that picked a shard just before a resize drained it starts over.
        while True:
            try:
                return operation(self._shard(key))
            except ShardRetired:
                continue

    def _deadline(self, ttl: float | None) -> float | None:
        """The monotonic deadline for ``ttl``; None means 'do not store'."""
        if ttl is DEFAULT_TTL:
            ttl = self._ttl
        if ttl is None:
            return FOREVER
        if ttl <= 0:
            return None
        return self._clock() + ttl

    def _reshard(self, old: list[Shard], num_shards: int) -> None:
        new = self._new_shards(num_shards, self._max_entries, self._max_memory_bytes)
        migration = Migration(old, new, self._clock)
        self._topology = (new, migration)
        migration.run()
        self._topology = (new, None)

    @staticmethod
    def _new_shards(count: int, max_entries: int, max_memory_bytes: int) -> list[Shard]:
        return [Shard(max_memory_bytes // count, max_entries // count) for _ in range(count)]

    def _ensure_cleaner(self) -> None:
        if self._cleaner is not None or not self._start_cleaner or not self.cleanup_interval:
            return
        with self._cleaner_lock:
            if self._cleaner is None:
                self._cleaner = Cleaner(self)
                self._cleaner.start()


def _check_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(BAD_SETTING % (name, value))


# Threads do not survive fork(): a child (e.g. a preforked server worker) starts its own.
_ENGINES: weakref.WeakSet[ShardedCache] = weakref.WeakSet()


def _forget_cleaners_after_fork() -> None:
    for engine in list(_ENGINES):
        engine._cleaner = None
        engine._cleaner_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_cleaners_after_fork)

__all__ = ["COUNTERS", "DEFAULT_TTL", "KEY_NOT_FOUND", "CleanupResult", "ShardedCache"]
