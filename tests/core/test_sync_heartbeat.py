"""The sync heartbeat: a run whose process was killed is reported stale within a bounded
time, and readiness knows whether a sync process is alive."""

from __future__ import annotations

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.core.models import Job, SyncHeartbeat, SyncRun
from apps.core.selectors import sync as sync_selectors
from apps.core.selectors.sync import (
    HEARTBEAT_STALE_S,
    NO_HEARTBEAT,
    STALE,
    check_hwa_sync,
    check_sync_heartbeat,
    freshness_reset,
    plan_freshness,
)
from apps.core.services import heartbeat
from apps.core.services.heartbeat import process_host, sync_heartbeat, sync_heartbeat_beat
from apps.core.services.sync import INTERRUPTED, plan_sync

pytestmark = pytest.mark.django_db
LONG_AGO = timedelta(seconds=HEARTBEAT_STALE_S + 5)


def _running_run(*, host: str = "gone-host:4242", last_beat_ago: timedelta | None) -> SyncRun:
    """A run left "running" by a process that last beat `last_beat_ago` (None: never)."""
    now = timezone.now()
    run = SyncRun.objects.create(host=host, started_at=now - timedelta(minutes=5))
    if last_beat_ago is not None:
        SyncHeartbeat.objects.create(host=host, beat_at=now - last_beat_ago)
    freshness_reset()
    return run


def test_a_run_whose_process_stopped_beating_is_stale(hwa_connection) -> None:
    _running_run(last_beat_ago=LONG_AGO)

    assert plan_freshness().status == STALE
    with pytest.raises(RuntimeError, match="stopped or killed mid-run"):
        check_hwa_sync()


def test_a_run_whose_process_beats_is_running(hwa_connection) -> None:
    _running_run(last_beat_ago=timedelta(seconds=2))

    assert plan_freshness().status == SyncRun.Status.RUNNING
    check_hwa_sync()  # healthy: a run in progress


def test_a_run_without_any_heartbeat_is_stale_once_it_is_older_than_the_bound(db) -> None:
    run = _running_run(last_beat_ago=None)
    assert plan_freshness().status == STALE

    SyncRun.objects.filter(pk=run.pk).update(started_at=timezone.now())
    freshness_reset()
    assert plan_freshness().status == SyncRun.Status.RUNNING


def test_the_next_sync_takes_over_a_killed_runs_claim(hwa) -> None:
    killed = _running_run(last_beat_ago=LONG_AGO)

    run = plan_sync(client=hwa)

    assert run.status == SyncRun.Status.OK  # not "skipped" for an hour
    killed.refresh_from_db()
    assert (killed.status, killed.error) == (SyncRun.Status.FAILED, INTERRUPTED)
    assert Job.objects.exists()


def test_sync_plan_beats_for_its_process(hwa_connection) -> None:
    call_command("sync_plan", stdout=StringIO(), stderr=StringIO())

    beat = SyncHeartbeat.objects.get(host=process_host())
    assert timezone.now() - beat.beat_at < timedelta(seconds=30)
    assert not beat.loop


def test_readiness_wants_a_recent_beat_when_a_connection_is_enabled(hwa_connection) -> None:
    limit = max(HEARTBEAT_STALE_S, 3 * hwa_connection.sync_interval)
    with pytest.raises(RuntimeError) as no_beat:
        check_sync_heartbeat()
    assert str(no_beat.value) == NO_HEARTBEAT.format(limit=limit)

    sync_heartbeat_beat(host="elsewhere:1", loop=True)
    check_sync_heartbeat()

    SyncHeartbeat.objects.update(beat_at=timezone.now() - timedelta(seconds=limit + 1))
    with pytest.raises(RuntimeError):
        check_sync_heartbeat()

    hwa_connection.enabled = False
    hwa_connection.save()
    check_sync_heartbeat()  # nothing is expected to sync


def test_readiness_expects_no_beat_without_a_connection(db) -> None:
    check_sync_heartbeat()


def test_rows_of_processes_long_gone_are_deleted(db) -> None:
    SyncHeartbeat.objects.create(host="old:1", beat_at=timezone.now() - timedelta(days=2))

    with sync_heartbeat(loop=True):
        pass

    assert list(SyncHeartbeat.objects.values_list("host", flat=True)) == [process_host()]


@pytest.mark.django_db(transaction=True)  # the beating thread has its own connection
def test_the_heartbeat_goes_on_from_a_thread_while_the_caller_works(monkeypatch) -> None:
    monkeypatch.setattr(heartbeat, "HEARTBEAT_EVERY_S", 0.05)

    with sync_heartbeat(loop=True):
        first = SyncHeartbeat.objects.get().beat_at
        time.sleep(0.5)  # the caller is busy (a long apply): the thread beats meanwhile
        later = SyncHeartbeat.objects.get().beat_at

    assert later > first
    assert sync_selectors.sync_heartbeat_latest() == SyncHeartbeat.objects.get().beat_at
