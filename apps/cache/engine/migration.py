"""Moving live entries to a new set of shards when ``num_shards`` changes.

The engine swaps in the new shards first, then moves the old ones over one at a time. Any
operation on a key whose old shard has not moved yet moves that shard first (or waits for
the thread moving it), so a delete or set during a resize can never be undone by an older
entry arriving later. Only one shard lock is held at any moment: the old shard is drained
under its lock, then each entry is adopted by its new shard under that shard's lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from apps.cache.engine.shard import Shard


class Migration:
    """The state of one resize: which old shards have been moved to the new ones."""

    def __init__(
        self, old: Sequence[Shard], new: Sequence[Shard], clock: Callable[[], float]
    ) -> None:
        self.old = old
        self.new = new
        self._clock = clock
        self._moved = [False] * len(old)
        # Guards _events only; never held while a shard lock is taken.
        self._lock = threading.Lock()
        self._events: dict[int, threading.Event] = {}

    def ensure_moved_for(self, key: str) -> None:
        """Make sure the old shard that held ``key`` has been moved."""
        self.ensure_moved(hash(key) % len(self.old))

    def ensure_moved(self, index: int) -> None:
        """Move old shard ``index`` now, or wait for the thread already moving it."""
        if self._moved[index]:
            return
        with self._lock:
            event = self._events.get(index)
            owner = event is None
            if owner:
                event = self._events[index] = threading.Event()
        if not owner:
            event.wait()
            return
        try:
            self._move(self.old[index])
        finally:
            self._moved[index] = True
            event.set()

    def run(self) -> None:
        """Move every old shard that no operation has moved yet."""
        for index in range(len(self.old)):
            self.ensure_moved(index)

    def _move(self, shard: Shard) -> None:
        entries = shard.drain()
        now = self._clock()
        new, count = self.new, len(self.new)
        for key, entry in entries:
            new[hash(key) % count].adopt(key, entry, now)
