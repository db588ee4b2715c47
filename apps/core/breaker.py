"""A thread-safe circuit breaker for calls to a dependency (HWA, the assistant's model).

closed --N consecutive failures--> open --cool-off elapsed--> half-open
half-open lets exactly one trial call through: success closes, failure reopens.

While open, callers are refused at once instead of piling up on a dead server. The
snapshot (state, counts, opened_at, last error) feeds health checks and metrics.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class BreakerState(StrEnum):
    """Where the breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """A consistent read of the breaker, for health and metrics."""

    state: BreakerState
    consecutive_failures: int
    total_failures: int
    total_successes: int
    opened_at: datetime | None
    last_error: str | None
    retry_after: float
    threshold: int
    cooloff: float


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CircuitBreaker:
    """Closed/open/half-open breaker; `clock` (monotonic seconds) is injectable for tests."""

    def __init__(
        self,
        *,
        threshold: int = 5,
        cooloff: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        if threshold < 1 or cooloff < 0:
            raise ValueError("threshold must be >= 1 and cooloff >= 0")
        self._lock = threading.Lock()
        self._clock = clock
        self._now = now
        self._threshold = threshold
        self._cooloff = cooloff
        self._state = BreakerState.CLOSED
        self._consecutive = 0
        self._failures = 0
        self._successes = 0
        self._opened_mono: float | None = None
        self._opened_at: datetime | None = None
        self._last_error: str | None = None
        self._trial_started: float | None = None

    def configure(self, *, threshold: int, cooloff: float) -> None:
        """Change threshold and cool-off in place, keeping the current state and counts."""
        if threshold < 1 or cooloff < 0:
            raise ValueError("threshold must be >= 1 and cooloff >= 0")
        with self._lock:
            self._threshold, self._cooloff = threshold, cooloff

    def try_acquire(self) -> bool:
        """May a call go ahead now? In half-open, only one trial call at a time may."""
        with self._lock:
            now = self._clock()
            if self._state is BreakerState.OPEN:
                if now - (self._opened_mono or now) < self._cooloff:
                    return False
                self._state = BreakerState.HALF_OPEN
                self._trial_started = None
            if self._state is BreakerState.HALF_OPEN:
                # A trial that never reported back (killed thread) must not wedge the breaker.
                stale = self._trial_started is not None and (
                    now - self._trial_started >= max(self._cooloff, 1.0)
                )
                if self._trial_started is not None and not stale:
                    return False
                self._trial_started = now
            return True

    def record_success(self) -> None:
        """The call reached a healthy dependency: close the breaker."""
        with self._lock:
            self._successes += 1
            self._consecutive = 0
            self._state = BreakerState.CLOSED
            self._opened_mono = self._opened_at = self._trial_started = None

    def record_failure(self, error: str) -> None:
        """The call failed because the dependency is unhealthy: count it, maybe open it."""
        with self._lock:
            self._failures += 1
            self._consecutive += 1
            self._last_error = error
            if self._state is BreakerState.HALF_OPEN or self._consecutive >= self._threshold:
                self._open()

    def _open(self) -> None:
        self._state = BreakerState.OPEN
        self._opened_mono = self._clock()
        self._opened_at = self._now()
        self._trial_started = None

    def retry_after(self) -> float:
        """Seconds until an open breaker lets a trial call through (0 when not open)."""
        with self._lock:
            return self._retry_after_locked()

    def _retry_after_locked(self) -> float:
        if self._state is not BreakerState.OPEN or self._opened_mono is None:
            return 0.0
        return max(0.0, self._cooloff - (self._clock() - self._opened_mono))

    @property
    def state(self) -> BreakerState:
        """The current state, half-open once an open breaker's cool-off has elapsed."""
        return self.snapshot().state

    def snapshot(self) -> BreakerSnapshot:
        """A consistent copy of the breaker's state and counters."""
        with self._lock:
            state = self._state
            if state is BreakerState.OPEN and self._retry_after_locked() == 0.0:
                state = BreakerState.HALF_OPEN
            return BreakerSnapshot(
                state=state,
                consecutive_failures=self._consecutive,
                total_failures=self._failures,
                total_successes=self._successes,
                opened_at=self._opened_at,
                last_error=self._last_error,
                retry_after=self._retry_after_locked(),
                threshold=self._threshold,
                cooloff=self._cooloff,
            )
