"""One shard of the memory engine: entries in LRU order under one lock.

An entry is ``key -> (stored, expires_at, pickled)``: the stored value, a monotonic deadline
(``FOREVER`` for no expiry) and whether ``stored`` is a pickle blob (mutable values) or the
value itself (immutable str, bytes, int, float, bool, None: callers cannot change them
through a reference, so they are kept as is and a hit costs no unpickling). Recency is the
entry's position in the OrderedDict (hits ``move_to_end``, eviction pops the front), expiry
is ``expires_at`` alone: a read moves an entry in the LRU order but never changes its
deadline.

Memory is counted per entry as ``entry_size(key, stored)``::

    value_size(stored) + len(key) + ENTRY_OVERHEAD_BYTES

``value_size`` is ``len()`` for bytes (the exact serialized value, or a raw bytes value) and
``sys.getsizeof(stored) - 33`` for other immutable values (their real object size less the
bytes header already in the overhead, so a non-ASCII str counts its real width),
``len(key)`` the key's characters (one byte each for the ASCII keys Django builds), and
``ENTRY_OVERHEAD_BYTES`` the fixed bookkeeping cost measured with tracemalloc on CPython
3.11 / 64-bit for 100k entries: the bytes and str object headers, the entry tuple and its
float deadline, the OrderedDict slot and ordering node, and the ``(deadline, key)`` tuple in
the expiry heap (~317 bytes measured, rounded up to 320). Stale heap tuples left by
overwrites are not counted; the heap is rebuilt when they outnumber live entries, so at most
about one extra tuple per live entry.

Every method takes the shard's lock itself and never calls into another shard, so no thread
ever holds two shard locks.
"""

from __future__ import annotations

import heapq
import sys
import threading
from collections import OrderedDict
from typing import Any

FOREVER = float("inf")
ENTRY_OVERHEAD_BYTES = 320
# Rebuild the expiry heap once stale tuples exceed the live entries by this much.
_HEAP_SLACK = 1024

COUNTERS = (
    "hits",
    "misses",
    "sets",
    "deletes",
    "expirations",
    "evictions_memory",
    "evictions_entries",
    "rejected_too_large",
)


class ShardRetired(Exception):
    """Raised by a write that reached a shard already drained by a resize."""


_BYTES_HEADER = sys.getsizeof(b"")
_getsizeof = sys.getsizeof


def value_size(stored: Any) -> int:
    """Bytes of a stored value beyond the bytes-object header counted in the overhead."""
    if stored.__class__ is bytes:
        return len(stored)
    return max(0, _getsizeof(stored) - _BYTES_HEADER)


def entry_size(key: str, stored: Any) -> int:
    """Bytes accounted for one entry (see the module docstring)."""
    return value_size(stored) + len(key) + ENTRY_OVERHEAD_BYTES


Entry = tuple[Any, float, bool]


class Shard:
    """An LRU-ordered map of serialized entries, its expiry heap, bounds and counters."""

    __slots__ = (
        "acquire",
        "bytes",
        "data",
        "deletes",
        "evictions_entries",
        "evictions_memory",
        "expirations",
        "heap",
        "hits",
        "lock",
        "max_bytes",
        "max_entries",
        "misses",
        "rejected_too_large",
        "release",
        "retired",
        "sets",
    )

    def __init__(self, max_bytes: int, max_entries: int) -> None:
        self.lock = threading.Lock()
        # Bound once: the engine's hit path calls them directly (cheaper than `with`).
        self.acquire = self.lock.acquire
        self.release = self.lock.release
        self.data: OrderedDict[str, Entry] = OrderedDict()
        self.heap: list[tuple[float, str]] = []
        self.bytes = 0
        self.max_bytes = max_bytes
        self.max_entries = max(1, max_entries)
        self.retired = False
        for name in COUNTERS:
            setattr(self, name, 0)

    # --- reads -------------------------------------------------------------------------
    def get(self, key: str, now: float) -> Entry | None:
        """Return a live entry and mark it recently used; None on a miss."""
        with self.lock:
            entry = self.data.get(key)
            if entry is not None:
                if entry[1] > now:
                    self.data.move_to_end(key)
                    self.hits += 1
                    return entry
                self._drop(key, entry)
                self.expirations += 1
            self.misses += 1
            return None

    def peek(self, key: str, now: float) -> Entry | None:
        """Return a live entry without counting or touching recency."""
        with self.lock:
            entry = self.data.get(key)
        if entry is None or entry[1] <= now:
            return None
        return entry

    # --- writes ------------------------------------------------------------------------
    def set(self, key: str, stored: Any, expires_at: float, pickled: bool) -> bool:
        """Store an entry as the most recent one; False if it exceeds the shard's budget."""
        with self.lock:
            self._check_live()
            return self._store(key, stored, expires_at, pickled)

    def add(self, key: str, stored: Any, expires_at: float, pickled: bool, now: float) -> bool:
        """Store the entry only if no live entry exists; True if stored."""
        with self.lock:
            self._check_live()
            entry = self.data.get(key)
            if entry is not None and entry[1] > now:
                return False
            return self._store(key, stored, expires_at, pickled)

    def delete(self, key: str) -> bool:
        """Remove an entry; True if one was present (expired or not)."""
        with self.lock:
            self._check_live()
            entry = self.data.get(key)
            if entry is None:
                return False
            self._drop(key, entry)
            self.deletes += 1
            return True

    def touch(self, key: str, expires_at: float, now: float) -> bool:
        """Give a live entry a new deadline; False if it is missing or expired."""
        with self.lock:
            self._check_live()
            entry = self.data.get(key)
            if entry is None or entry[1] <= now:
                return False
            self.data[key] = (entry[0], expires_at, entry[2])
            if expires_at != FOREVER:
                self._push_deadline(expires_at, key)
            return True

    def replace(self, key: str, now: float, update: Any) -> Entry | None:
        """Swap a live entry's value for ``update(entry)`` keeping its deadline; None if absent.

        ``update(entry) -> (stored, pickled)`` runs under the lock, so an incr is atomic.
        """
        with self.lock:
            self._check_live()
            entry = self.data.get(key)
            if entry is None or entry[1] <= now:
                return None
            stored, pickled = update(entry)
            self.bytes += entry_size(key, stored) - entry_size(key, entry[0])
            del self.data[key]
            self.data[key] = new = (stored, entry[1], pickled)
            self._enforce_bounds()
            return new

    def clear(self) -> None:
        """Drop every entry (counters are kept: they describe the shard's history)."""
        with self.lock:
            self.data.clear()
            self.heap.clear()
            self.bytes = 0

    # --- maintenance -------------------------------------------------------------------
    def cleanup(self, now: float, max_items: int) -> tuple[int, bool]:
        """Remove expired entries, popping at most ``max_items`` heap tuples.

        Returns (entries removed, whether due work was left for a later pass).
        """
        removed = 0
        with self.lock:
            heap, data = self.heap, self.data
            for _ in range(max_items):
                if not heap or heap[0][0] > now:
                    return removed, False
                deadline, key = heapq.heappop(heap)
                entry = data.get(key)
                # A stale tuple (overwritten, touched or deleted key) is skipped.
                if entry is not None and entry[1] == deadline:
                    self._drop(key, entry)
                    self.expirations += 1
                    removed += 1
            return removed, bool(heap) and heap[0][0] <= now

    def set_bounds(self, max_bytes: int, max_entries: int) -> None:
        """Apply new bounds, evicting least recently used entries down to them at once."""
        with self.lock:
            self.max_bytes = max_bytes
            self.max_entries = max(1, max_entries)
            self._enforce_bounds()

    def drain(self) -> list[tuple[str, Entry]]:
        """Empty the shard for a resize, oldest first, and refuse later writes."""
        with self.lock:
            self.retired = True
            entries = list(self.data.items())
            self.data.clear()
            self.heap.clear()
            self.bytes = 0
            return entries

    def adopt(self, key: str, entry: Entry, now: float) -> None:
        """Take over an entry moved by a resize, unless expired or already rewritten."""
        if entry[1] <= now:
            return
        size = entry_size(key, entry[0])
        with self.lock:
            if key in self.data or size > self.max_bytes:
                return
            self._insert(key, entry, size)
            self._enforce_bounds()

    def snapshot(self) -> dict[str, int]:
        """Counters, size and bounds, read under the lock so they agree with each other."""
        with self.lock:
            stats = {name: getattr(self, name) for name in COUNTERS}
            stats.update(
                entries=len(self.data),
                bytes=self.bytes,
                max_entries=self.max_entries,
                max_bytes=self.max_bytes,
            )
            return stats

    # --- helpers (lock held) -----------------------------------------------------------
    def _check_live(self) -> None:
        if self.retired:
            raise ShardRetired

    def _store(self, key: str, stored: Any, expires_at: float, pickled: bool) -> bool:
        old = self.data.pop(key, None)
        if old is not None:
            self.bytes -= entry_size(key, old[0])
        size = entry_size(key, stored)
        if size > self.max_bytes:
            # The old value is dropped too: the caller meant to replace it.
            self.rejected_too_large += 1
            return False
        self._insert(key, (stored, expires_at, pickled), size)
        self.sets += 1
        self._enforce_bounds()
        return True

    def _insert(self, key: str, entry: Entry, size: int) -> None:
        self.data[key] = entry
        self.bytes += size
        if entry[1] != FOREVER:
            self._push_deadline(entry[1], key)

    def _push_deadline(self, expires_at: float, key: str) -> None:
        heap = self.heap
        heapq.heappush(heap, (expires_at, key))
        if len(heap) > 2 * len(self.data) + _HEAP_SLACK:
            self.heap = [(e[1], k) for k, e in self.data.items() if e[1] != FOREVER]
            heapq.heapify(self.heap)

    def _drop(self, key: str, entry: Entry) -> None:
        del self.data[key]
        self.bytes -= entry_size(key, entry[0])

    def _enforce_bounds(self) -> None:
        data = self.data
        while len(data) > self.max_entries:
            key, entry = data.popitem(last=False)
            self.bytes -= entry_size(key, entry[0])
            self.evictions_entries += 1
        while self.bytes > self.max_bytes and data:
            key, entry = data.popitem(last=False)
            self.bytes -= entry_size(key, entry[0])
            self.evictions_memory += 1
