"""The plan sync's heartbeat: a process that syncs says, every few seconds, that it is alive.

Why: a sync process killed mid-run (SIGKILL, out of memory, a lost host) leaves its SyncRun
"running", and nothing else would say otherwise until the next sync claims the lock, which
may be hours away, or never if no loop is left. With a heartbeat, freshness and health
(apps/core/selectors/sync.py) report a running run whose process has stopped beating as
stale within HEARTBEAT_STALE_S, and readiness knows whether any sync process is alive.

The beats come from a daemon thread, not from the sync itself: a run applies the plan in one
long transaction (nothing it writes is visible before the commit) and one page fetch may
take a whole read timeout. `sync_plan` (once or --loop) holds `sync_heartbeat()` while it
works. One row per process (host:pid, the same identity as SyncRun.host); rows of processes
gone for longer than KEEP are deleted when a new process starts beating.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import DatabaseError, connections
from django.utils import timezone

from apps.core.models import SyncHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 5.0
KEEP = timedelta(days=1)
BEAT_FAILED = "The sync heartbeat could not be written (retried every %.0f s): %s"


def process_host() -> str:
    """This process's identity in sync runs and heartbeats: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def sync_heartbeat_beat(*, host: str, loop: bool) -> None:
    """Record that the sync process `host` is alive now."""
    now = timezone.now()
    if SyncHeartbeat.objects.filter(host=host).update(beat_at=now, loop=loop):
        return
    SyncHeartbeat.objects.get_or_create(
        host=host, defaults={"loop": loop, "started_at": now, "beat_at": now}
    )


def sync_heartbeats_prune() -> int:
    """Delete the rows of processes that stopped beating more than KEEP ago."""
    deleted, _ = SyncHeartbeat.objects.filter(beat_at__lt=timezone.now() - KEEP).delete()
    return deleted


@contextmanager
def sync_heartbeat(*, loop: bool) -> Iterator[None]:
    """Beat now (in this thread, so it is visible at once), then every HEARTBEAT_EVERY_S
    from a daemon thread until the block ends. A database error never stops the caller."""
    host = process_host()
    try:
        sync_heartbeats_prune()
        sync_heartbeat_beat(host=host, loop=loop)
    except DatabaseError as exc:  # the sync will say what is wrong; the thread retries
        logger.warning(BEAT_FAILED, HEARTBEAT_EVERY_S, exc)
    stop = threading.Event()
    thread = threading.Thread(
        target=_beat_until, args=(stop, host, loop), name="sync-heartbeat", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT_EVERY_S)


def _beat_until(stop: threading.Event, host: str, loop: bool) -> None:
    failing = False
    while not stop.wait(HEARTBEAT_EVERY_S):
        try:
            sync_heartbeat_beat(host=host, loop=loop)
            failing = False
        except DatabaseError as exc:
            if not failing:  # once per outage, not every beat
                logger.warning(BEAT_FAILED, HEARTBEAT_EVERY_S, exc)
            failing = True
        finally:
            connections.close_all()  # this thread's own connections: back to the pool
