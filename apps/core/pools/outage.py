"""The database circuit breaker: PostgreSQL being down is detected once, for the whole process.

    closed --a connection attempt fails--> open --a probe connects--> closed

Without it every request waits the pool's full timeout at every database step while
PostgreSQL is down, and after a restart the pool reconnects only on its own exponential
back-off (seconds, then minutes). With it (wired in ``apps.core.pools.database``):

- the first failed attempt to open a connection (the pool replacing a lost connection,
  growing or opening) trips the breaker for the whole process;
- while it is open, asking the pool for a connection raises ``DatabaseUnavailable`` at
  once, which the API answers as a 503 problem (``apps.core.pools.unavailable``);
- one background thread probes PostgreSQL with a direct connection every
  ``PROBE_INTERVAL_S``; the first probe that gets through rebuilds the pool (fresh
  connections, none of the old pool's back-off left over) and closes the breaker, so the
  first request after a restart succeeds.

The probe never runs on a request thread, so no request waits for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

logger = logging.getLogger(__name__)

PROBE_INTERVAL_S = 0.25
DOWN = "the database is unavailable (since {since:%H:%M:%S} UTC): {error}"


class DatabaseUnavailable(psycopg.OperationalError):
    """Raised instead of waiting for a connection while the database is known to be down."""


@dataclass(frozen=True, slots=True)
class OutageSnapshot:
    """A consistent read of the breaker, for health and pool statistics."""

    open: bool
    opened_at: datetime | None
    last_error: str
    trips: int
    recoveries: int


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class OutageBreaker:
    """Open from the first connection failure until a probe reaches the database again.

    ``probe()`` raises while the database is unreachable; ``recover()`` runs once a probe
    succeeded, before the breaker closes (it rebuilds the pool).
    """

    def __init__(
        self,
        *,
        probe: Callable[[], None],
        recover: Callable[[], None],
        interval: float = PROBE_INTERVAL_S,
    ) -> None:
        self._probe = probe
        self._recover = recover
        self.interval = interval
        self._lock = threading.Lock()
        self._open = False
        self._opened_at: datetime | None = None
        self._last_error = ""
        self._trips = 0
        self._recoveries = 0
        self._prober: threading.Thread | None = None

    @property
    def is_open(self) -> bool:
        return self._open

    def check(self) -> None:
        """Raise DatabaseUnavailable at once if the database is known to be down."""
        if self._open:  # a plain read: this runs on every connection request
            raise DatabaseUnavailable(self.reason())

    def reason(self) -> str:
        with self._lock:
            return DOWN.format(since=self._opened_at or datetime.now(UTC), error=self._last_error)

    def trip(self, error: BaseException) -> None:
        """A connection attempt failed: fail fast from now on and start probing."""
        with self._lock:
            self._last_error = _first_line(error)
            if self._open:
                return
            self._open = True
            self._opened_at = datetime.now(UTC)
            self._trips += 1
            # Only the prober clears this (under the lock), so exactly one prober runs.
            if self._prober is None:
                self._prober = threading.Thread(
                    target=self._probe_until_back, name="resync-db-probe", daemon=True
                )
                self._prober.start()
        logger.error(
            "Database unavailable (%s): requests answer 503 at once until it is back",
            self._last_error,
        )

    def _probe_until_back(self) -> None:
        started = time.monotonic()
        while True:
            time.sleep(self.interval)
            try:
                self._probe()
                self._recover()
            except Exception as exc:  # still down (or the rebuild failed): keep probing
                with self._lock:
                    self._last_error = _first_line(exc)
                continue
            with self._lock:
                self._open = False
                self._opened_at = None
                self._recoveries += 1
                self._prober = None
            logger.warning("Database available again after %.1f s", time.monotonic() - started)
            return

    def snapshot(self) -> OutageSnapshot:
        with self._lock:
            return OutageSnapshot(
                self._open, self._opened_at, self._last_error, self._trips, self._recoveries
            )

    def reset(self) -> None:
        """Close without probing (tests). A prober still running stops at its next success."""
        with self._lock:
            self._open = False
            self._opened_at = None
