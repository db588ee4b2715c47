"""Per-acquisition wait samples and counters shared by the pool adapters."""

from __future__ import annotations

import threading
import weakref
from collections import deque

SAMPLES_KEPT = 2048


class WaitSamples:
    """A ring buffer of acquisition waits (ms) plus an exhaustion counter, thread-safe."""

    def __init__(self, size: int = SAMPLES_KEPT) -> None:
        self._waits: deque[float] = deque(maxlen=size)
        self._lock = threading.Lock()
        self.acquisitions = 0
        self.exhaustions = 0
        self.waiting = 0
        self.new_connections = 0  # acquisitions that got a connection never handed out before
        self._seen: weakref.WeakSet = weakref.WeakSet()

    def record(self, wait_ms: float, conn: object | None = None) -> None:
        with self._lock:
            self._waits.append(wait_ms)
            self.acquisitions += 1
            if conn is not None and conn not in self._seen:
                self._seen.add(conn)
                self.new_connections += 1

    def exhausted(self) -> None:
        with self._lock:
            self.exhaustions += 1

    def enter(self) -> None:
        with self._lock:
            self.waiting += 1

    def leave(self) -> None:
        with self._lock:
            self.waiting -= 1

    def summary(self) -> dict:
        """p50 and max of the kept samples; null when none were taken yet."""
        with self._lock:
            waits = sorted(self._waits)
        if not waits:
            return {"p50_ms": None, "max_ms": None, "samples": 0}
        return {
            "p50_ms": round(waits[len(waits) // 2], 3),
            "max_ms": round(waits[-1], 3),
            "samples": len(waits),
        }
