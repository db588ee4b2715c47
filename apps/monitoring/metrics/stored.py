"""Metrics read from the database at scrape time: the plan sync and the jobs per status.

These are the same whichever process answers (every process reads the same rows), so they
are not per-process metrics but families built when collected. Reading them costs a few
small queries, so the families are kept in the process for STORED_TTL_S: a scrape every
few seconds, or an alert evaluator plus Prometheus, cost one read per TTL. While the
database cannot be read they are left out and `resync_metrics_database_up` is 0.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

from django.db import DatabaseError
from prometheus_client.core import GaugeMetricFamily, Metric

from apps.core.pools.database import request_deadline
from apps.core.selectors.plan import job_counts_by_status
from apps.core.selectors.sync import (
    NEVER,
    STALE,
    UNKNOWN,
    plan_freshness,
    sync_heartbeat_latest,
    sync_run_latest_finished,
)

logger = logging.getLogger(__name__)

STORED_TTL_S = 15.0
# Longest wait for a pooled connection while a scrape reads: a busy pool must not hold it.
DB_WAIT_S = 0.25
SYNC_STATUSES = ("ok", "failed", "running", STALE, NEVER, UNKNOWN)
CHANGES = ("created", "updated", "removed")

_lock = threading.Lock()
_cached: tuple[float, list[Metric]] | None = None


def stored_families() -> list[Metric]:
    """The database-backed families (cached for STORED_TTL_S; read again after a failure)."""
    global _cached
    cached = _cached
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    try:
        with request_deadline(DB_WAIT_S):
            families = [*_sync_families(), _jobs_family()]
    except DatabaseError as exc:
        logger.warning("Metrics from the database left out: %s", exc)
        return [_up(0)]
    families.append(_up(1))
    with _lock:
        _cached = (time.monotonic() + STORED_TTL_S, families)
    return families


def stored_reset() -> None:
    """Forget the cached families (tests; after a change that must show at once)."""
    global _cached
    with _lock:
        _cached = None


def _up(value: int) -> Metric:
    return GaugeMetricFamily(
        "resync_metrics_database_up",
        "1 if the database-backed metrics (sync, jobs) could be read for this answer.",
        value=value,
    )


def _jobs_family() -> Metric:
    family = GaugeMetricFamily(
        "resync_jobs", "Jobs in the mirrored plan, by high-level status.", labels=["status"]
    )
    for status, count in job_counts_by_status().items():
        family.add_metric([status], count)
    return family


def _sync_families() -> Iterator[Metric]:
    freshness = plan_freshness()
    status = GaugeMetricFamily(
        "resync_sync_status",
        "1 for the state of the latest plan sync (ok, failed, running, stale: its process "
        "stopped mid-run, never), 0 for the others.",
        labels=["status"],
    )
    for candidate in SYNC_STATUSES:
        status.add_metric([candidate], 1 if candidate == freshness.status else 0)
    yield status
    if freshness.synced_at is not None:
        yield GaugeMetricFamily(
            "resync_sync_last_success_timestamp_seconds",
            "When the latest successful plan sync finished (Unix time).",
            value=freshness.synced_at.timestamp(),
        )
    beat = sync_heartbeat_latest()
    if beat is not None:
        yield GaugeMetricFamily(
            "resync_sync_heartbeat_timestamp_seconds",
            "When a plan sync process last said it was alive (Unix time).",
            value=beat.timestamp(),
        )
    yield from _last_run_families()


def _last_run_families() -> Iterator[Metric]:
    run = sync_run_latest_finished()
    if run is None or run.duration_s is None:
        return
    yield GaugeMetricFamily(
        "resync_sync_last_run_duration_seconds",
        "How long the latest finished plan sync took (ok or failed).",
        value=run.duration_s,
    )
    changed = GaugeMetricFamily(
        "resync_sync_last_run_changed_rows",
        "Rows the latest finished plan sync created, updated or removed, by kind.",
        labels=["kind", "change"],
    )
    for kind, counts in sorted(run.counts.items()):
        for change in CHANGES:
            changed.add_metric([kind, change], counts.get(change, 0))
    yield changed
