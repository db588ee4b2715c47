"""The background thread that removes expired entries every ``cleanup_interval`` seconds."""

from __future__ import annotations

import logging
import threading
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.cache.engine.cache import ShardedCache

logger = logging.getLogger(__name__)

# Heap tuples popped per shard per pass: keeps each lock hold short (well under 1 ms).
CLEANUP_BATCH = 1000


class Cleaner(threading.Thread):
    """A daemon thread calling ``engine.cleanup`` each interval until stopped."""

    def __init__(self, engine: ShardedCache) -> None:
        super().__init__(name=f"resync-cache-cleaner-{id(engine):x}", daemon=True)
        # A weak reference, so a forgotten engine is collected and its cleaner ends.
        self._engine = weakref.ref(engine)
        self._stop_event = threading.Event()

    def stop(self) -> None:
        """Ask the thread to finish; it exits at its next wake-up (at once if waiting)."""
        self._stop_event.set()

    def run(self) -> None:
        while True:
            engine = self._engine()
            if engine is None:
                return
            interval = engine.cleanup_interval
            del engine
            if self._stop_event.wait(interval):
                return
            self._pass()

    def _pass(self) -> None:
        engine = self._engine()
        if engine is None:
            return
        try:
            # Repeat short passes while due work is left; between passes other threads
            # take the shard locks, so there is no long pause.
            while engine.cleanup(CLEANUP_BATCH).pending and not self._stop_event.is_set():
                pass
        except Exception:
            logger.exception("Cache cleanup pass failed")
