"""Security events are counted in memory and written in the background, never per request.

A flood of hostile requests must neither fill the database nor slow the requests down, so
recording an event only adds to a counter in this process, per (address, kind, minute):
a dictionary update under a lock. A daemon thread hands the counters to a writer every
`flush_seconds`, which adds them to the one row per (address, kind, minute) in a single
upsert (apps.monitoring.services.security_events_write). 10,000 hostile requests from one
address within a minute are one row with a count of 10,000.

Bounded: each process tracks at most `max_addresses` addresses per minute; hits from any
further address count in the row of the address "" (unknown), so an attacker rotating
addresses (an IPv6 /64 holds plenty) gets no more rows than that. If the write fails (the
database is down) the counters are kept and merged with the next ones, within the same bound.

Counts not yet written when the process is killed are lost (at most `flush_seconds` worth);
a normal exit writes them (atexit).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

OVERFLOW = "one of the addresses past this process's budget of {limit:,} per minute"


@dataclass(slots=True)
class Bucket:
    """The hits of one kind from one address in one minute, not yet written."""

    kind: str
    ip: str
    minute: datetime
    severity: int
    first_seen: datetime
    last_seen: datetime
    count: int
    path: str
    pattern: str
    request_id: str
    detail: str
    user_id: int | None
    username: str

    @property
    def key(self) -> tuple[str, str, datetime]:
        return (self.ip, self.kind, self.minute)

    def merge(self, other: Bucket) -> None:
        """Add `other`'s hits; the earlier sample (path, pattern, ...) stays."""
        self.count += other.count
        self.severity = max(self.severity, other.severity)
        if other.first_seen < self.first_seen:
            self.first_seen = other.first_seen
        if other.last_seen > self.last_seen:
            self.last_seen = other.last_seen
        if self.user_id is None and other.user_id is not None:
            self.user_id, self.username = other.user_id, other.username


Writer = Callable[[Sequence[Bucket]], None]


class SecurityEventRecorder:
    """Per-process counters of security events, flushed to the database in the background."""

    def __init__(
        self, *, write: Writer, flush_seconds: float = 1.0, max_addresses: int = 1000
    ) -> None:
        self._write = write
        self.flush_seconds = flush_seconds
        self.max_addresses = max_addresses
        # Tests turn this off and call flush() themselves.
        self.autostart = True
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # the parent's counters are its own

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str, datetime], Bucket] = {}
        self._minute: datetime | None = None
        self._addresses: set[str] = set()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._failing = False

    def add(self, bucket: Bucket) -> None:
        """Count one bucket's hits (a new bucket or more of an existing one)."""
        with self._lock:
            if self._minute != bucket.minute:
                self._minute = bucket.minute
                self._addresses.clear()
            if bucket.ip and bucket.ip not in self._addresses:
                if len(self._addresses) >= self.max_addresses:
                    bucket.ip, bucket.user_id, bucket.username = "", None, ""
                    bucket.detail = OVERFLOW.format(limit=self.max_addresses)
                else:
                    self._addresses.add(bucket.ip)
            self._merge(bucket)
            if self.autostart and self._thread is None:
                self._start()

    def _merge(self, bucket: Bucket) -> None:
        existing = self._pending.get(bucket.key)
        if existing is None:
            self._pending[bucket.key] = bucket
        else:
            existing.merge(bucket)

    def pending(self) -> list[Bucket]:
        """The buckets not yet written (a copy)."""
        with self._lock:
            return list(self._pending.values())

    def clear(self) -> None:
        """Forget every pending count (tests)."""
        with self._lock:
            self._pending.clear()
            self._minute = None
            self._addresses.clear()

    def flush(self) -> int:
        """Write the pending buckets now; returns how many. On failure they stay pending."""
        with self._lock:
            buckets, self._pending = self._pending, {}
        if not buckets:
            return 0
        try:
            self._write(sorted(buckets.values(), key=lambda b: b.key))
        except BaseException:
            with self._lock:
                for bucket in buckets.values():
                    self._merge(bucket)
            raise
        return len(buckets)

    def _start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name="resync-security-events", daemon=True
        )
        self._thread.start()
        atexit.unregister(self._flush_logged)  # once, however often the thread restarts
        atexit.register(self._flush_logged)

    def stop(self) -> None:
        """Stop the background thread (it writes what is pending first)."""
        thread = self._thread
        if thread is not None:
            self._stop.set()
            thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self._flush_logged()
        self._flush_logged()

    def _flush_logged(self) -> None:
        try:
            self.flush()
        except Exception as exc:
            # Once per outage, not once a second: the counts wait for the database.
            if not self._failing:
                logger.warning("Security events not written yet (kept in memory): %s", exc)
            self._failing = True
        else:
            if self._failing:
                logger.warning("Security events written again")
            self._failing = False
        finally:
            # Hand the connection back (to the pool on PostgreSQL) between flushes.
            connection.close()


def clock() -> datetime:
    """The time events are recorded at (a seam for tests)."""
    return timezone.now()


def minute_of(at: datetime) -> datetime:
    """The start of the minute `at` falls in, in UTC."""
    return at.astimezone(UTC).replace(second=0, microsecond=0)
