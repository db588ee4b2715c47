"""Reads about plan syncs: how fresh the mirror is, and whether syncing is healthy.

The freshness is read on every plan API response, so it is cached in the process for
FRESHNESS_TTL_S (one small query a second at most); a sync in this process resets it. A
run row may stand for repeats of itself (see services/sync.py): its `last_finished_at` is
when the latest of them finished. While the database cannot be read, responses keep the
last freshness known (or say `unknown`) rather than failing: cached plan reads are served
through an outage.

A run still "running" whose process has not beaten its heartbeat (services/heartbeat.py)
for HEARTBEAT_STALE_S was stopped or killed mid-run: freshness says `stale` and health's
`hwa_sync` is degraded, within that bound rather than until the next sync.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import DatabaseError
from django.db.models import Max
from django.utils import timezone

from apps.core.models import HwaConnection, SyncHeartbeat, SyncRun
from apps.core.models.hwa import DEFAULT_CONNECTION
from apps.core.services.hwa import hwa_client_peek

FRESHNESS_TTL_S = 1.0
NEVER = "never"
UNKNOWN = "unknown"  # the database could not be read and nothing was known before
STALE_FACTOR = 3
NO_SUCCESS = "no successful sync yet"
LAST_FAILED = "the last sync failed: {error}"
TOO_OLD = "the last successful sync is {age:.0f} s old (more than {factor} x {interval} s)"
BREAKER_OPEN = "HWA calls are suspended (circuit open): {error}"
STALE = "stale"  # freshness of a run whose process stopped beating mid-run
# A sync process beats every 5 s (services/heartbeat.py): six missed beats mean it is gone.
HEARTBEAT_STALE_S = 30.0
STALE_RUN = (
    "the sync started at {started:%Y-%m-%d %H:%M:%S} UTC by {host} has not reported for "
    "{age:.0f} s: its process was stopped or killed mid-run"
)
NO_HEARTBEAT = (
    "no plan sync process has reported for more than {limit:.0f} s "
    "(is `manage.py sync_plan --loop` running?)"
)


@dataclass(frozen=True, slots=True)
class Freshness:
    """When the mirror last synced successfully, and how the latest run ended."""

    synced_at: datetime | None
    status: str  # ok, failed, running, "never", or "unknown" (database unavailable)


_lock = threading.Lock()
_cached: tuple[float, Freshness] | None = None


def _latest(**filters) -> SyncRun | None:
    runs = SyncRun.objects.exclude(status=SyncRun.Status.SKIPPED).filter(**filters)
    fields = ("status", "started_at", "finished_at", "last_finished_at", "error", "host")
    return runs.order_by("-started_at", "-id").only(*fields).first()


def plan_freshness() -> Freshness:
    """The mirror's freshness (cached in the process for about a second)."""
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and cached[0] > now:
        return cached[1]
    try:
        value = _read_freshness()
    except DatabaseError:  # the database is down: keep what we knew, try again in a second
        value = cached[1] if cached is not None else Freshness(None, UNKNOWN)
    with _lock:
        _cached = (now + FRESHNESS_TTL_S, value)
    return value


def _read_freshness() -> Freshness:
    latest = _latest()
    last_ok = latest if latest and latest.status == SyncRun.Status.OK else _latest(status="ok")
    synced_at = last_ok.latest_finished_at if last_ok else None
    if latest is None:
        return Freshness(synced_at, NEVER)
    stale = latest.status == SyncRun.Status.RUNNING and run_is_stale(latest)
    return Freshness(synced_at, STALE if stale else latest.status)


def _last_beat(host: str) -> datetime | None:
    return SyncHeartbeat.objects.filter(host=host).values_list("beat_at", flat=True).first()


def run_is_stale(run: SyncRun, *, now: datetime | None = None) -> bool:
    """Is this running run's process gone: no heartbeat for HEARTBEAT_STALE_S (or none at
    all, and the run started longer ago than that)?"""
    limit = (now or timezone.now()) - timedelta(seconds=HEARTBEAT_STALE_S)
    if run.started_at >= limit:
        return False
    beat = _last_beat(run.host)
    return beat is None or beat < limit


def sync_run_latest_finished() -> SyncRun | None:
    """The latest run that ended, ok or failed (its duration and counts feed metrics)."""
    ended = SyncRun.objects.filter(status__in=[SyncRun.Status.OK, SyncRun.Status.FAILED])
    return ended.order_by("-started_at", "-id").first()


def sync_heartbeat_latest() -> datetime | None:
    """When a plan sync process last said it was alive (None: never)."""
    return SyncHeartbeat.objects.aggregate(latest=Max("beat_at"))["latest"]


def plan_date() -> date:
    """The day (TIME_ZONE) of the mirrored plan: that of its last successful sync, or today
    for a plan never synced (a demo plan). Names export files."""
    synced_at = plan_freshness().synced_at
    return timezone.localdate(synced_at) if synced_at is not None else timezone.localdate()


def freshness_reset() -> None:
    """Forget the cached freshness (after a sync in this process; tests)."""
    global _cached
    with _lock:
        _cached = None


def check_hwa_sync() -> None:
    """Health check "hwa_sync": raises with the reason when syncing is not healthy.

    Healthy when no HWA connection is configured or it is disabled: the mirror then holds a
    plan loaded on purpose (a demo, a frozen copy) and nothing is expected to refresh it.
    Degraded when the last sync failed, the last success is older than 3 x the sync
    interval (or there is none that long after the connection was set up), or this
    process's HWA circuit breaker is open.
    """
    connection = HwaConnection.objects.filter(name=DEFAULT_CONNECTION).first()
    if connection is None or not connection.enabled:
        return
    latest = _latest()
    if latest is not None and latest.status == SyncRun.Status.FAILED:
        raise RuntimeError(LAST_FAILED.format(error=latest.error))
    now = timezone.now()
    if latest is not None and latest.status == SyncRun.Status.RUNNING:
        _check_running(latest, now)
    limit = timedelta(seconds=STALE_FACTOR * connection.sync_interval)
    last_ok = _latest(status="ok")
    if last_ok is None:
        if now - connection.created_at > limit:
            raise RuntimeError(NO_SUCCESS)
    elif now - last_ok.latest_finished_at > limit:
        age = (now - last_ok.latest_finished_at).total_seconds()
        raise RuntimeError(
            TOO_OLD.format(age=age, factor=STALE_FACTOR, interval=connection.sync_interval)
        )
    _check_breaker()


def _check_running(run: SyncRun, now: datetime) -> None:
    if run_is_stale(run, now=now):
        beat = _last_beat(run.host) or run.started_at
        age = (now - beat).total_seconds()
        raise RuntimeError(STALE_RUN.format(started=run.started_at, host=run.host, age=age))


def check_sync_heartbeat() -> None:
    """Readiness check "sync_heartbeat": raises unless a sync process reported recently.

    Nothing is expected without an enabled HWA connection (as for "hwa_sync"). Recently:
    within HEARTBEAT_STALE_S, or 3 x the sync interval when that is longer, so a sync run
    from cron every interval (whose process beats only while it runs) counts too.
    """
    connection = HwaConnection.objects.filter(name=DEFAULT_CONNECTION).first()
    if connection is None or not connection.enabled:
        return
    limit = max(HEARTBEAT_STALE_S, STALE_FACTOR * connection.sync_interval)
    latest = sync_heartbeat_latest()
    if latest is None or timezone.now() - latest > timedelta(seconds=limit):
        raise RuntimeError(NO_HEARTBEAT.format(limit=limit))


def _check_breaker() -> None:
    client = hwa_client_peek()
    if client is None:
        return
    snap = client.breaker.snapshot()
    if snap.state == "open":
        raise RuntimeError(BREAKER_OPEN.format(error=snap.last_error))


def sync_failures_consecutive(*, limit: int = 100) -> int:
    """How many plan syncs in a row failed, up to the latest (0: the latest succeeded).

    A row that stands for repeats of itself counts them; a run whose process stopped
    mid-run (stale) counts as a failure; a run in progress is passed over (it has not
    ended yet). At most `limit` rows are read.
    """
    runs = SyncRun.objects.exclude(status=SyncRun.Status.SKIPPED).order_by("-started_at", "-id")
    failures = 0
    for run in runs.only("status", "started_at", "host", "repeats")[:limit]:
        if run.status == SyncRun.Status.FAILED:
            failures += 1 + run.repeats
        elif run.status == SyncRun.Status.RUNNING:
            failures += 1 if run_is_stale(run) else 0
        else:
            break
    return failures
