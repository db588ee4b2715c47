"""The plan sync against the real simulator over HTTP (PostgreSQL when DATABASE_URL is set)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.db import connections
from django.utils import timezone

from apps.core.hwa.client import HwaClient
from apps.core.hwa.errors import MALFORMED_JSON
from apps.core.hwa.parsing import parse_job
from apps.core.hwa.simulator.plan import SimWorkstation
from apps.core.models import Job, JobStatusEvent, JobStream, SyncRun, Workstation
from apps.core.selectors.sync import Freshness, freshness_reset, plan_freshness
from apps.core.services.hwa import client_settings
from apps.core.services.mirror import JOB_SYNCED_FIELDS, MirrorWriter, job_mirror_update
from apps.core.services.sync import (
    FOLD_WINDOW,
    LOCK_KEY,
    SKIPPED_DETAIL,
    SYNCED_RECENTLY,
    plan_sync,
)
from apps.core.states import stream_state
from apps.monitoring.selectors import health_report
from tests.core.sync_fixtures import JOBS

pytestmark = pytest.mark.django_db


def test_a_full_sync_creates_the_mirror_with_counts(sim, hwa) -> None:
    run = plan_sync(client=hwa)

    assert run.status == SyncRun.Status.OK, run.error
    assert Job.objects.count() == JOBS
    assert JobStream.objects.count() == len(sim.plan.streams)
    assert Workstation.objects.count() == len(sim.plan.workstations)
    assert run.counts["jobs"] == {"created": JOBS, "updated": 0, "unchanged": 0, "removed": 0}
    assert run.events == JOBS == JobStatusEvent.objects.count()
    some = sim.plan.jobs[7]
    mirrored = Job.objects.get(hwa_id=some.hwa_id)
    assert (mirrored.internal_state, mirrored.name) == (some.state, some.name)


def test_a_resync_writes_events_only_for_changed_jobs(sim, hwa) -> None:
    plan_sync(client=hwa)
    before = {job.hwa_id: job.state for job in sim.plan.jobs}
    changed = set(sim.plan.tick(2))

    run = plan_sync(client=hwa)

    moved = {job.hwa_id for job in sim.plan.jobs if before[job.hwa_id] != job.state}
    assert moved
    assert moved <= changed
    assert run.counts["jobs"]["updated"] == len(moved)
    assert run.counts["jobs"]["unchanged"] == JOBS - len(moved)
    new_events = JobStatusEvent.objects.exclude(from_state="")
    assert {e.job.hwa_id for e in new_events.select_related("job")} == moved
    assert run.events == len(moved)
    for job in sim.plan.jobs:
        if job.hwa_id in moved:
            assert Job.objects.get(hwa_id=job.hwa_id).internal_state == job.state


def test_jobs_written_in_several_chunks_give_the_same_mirror_and_events(
    sim, hwa, monkeypatch
) -> None:
    monkeypatch.setattr("apps.core.services.sync.UPSERT_CHUNK", 7)  # JOBS is not a multiple
    run = plan_sync(client=hwa)

    assert run.counts["jobs"] == {"created": JOBS, "updated": 0, "unchanged": 0, "removed": 0}
    assert run.events == JOBS == JobStatusEvent.objects.filter(from_state="").count()
    before = {job.hwa_id: job.state for job in sim.plan.jobs}
    sim.plan.tick(20)
    moved = {job.hwa_id for job in sim.plan.jobs if before[job.hwa_id] != job.state}

    run = plan_sync(client=hwa)

    assert run.counts["jobs"]["updated"] == len(moved) > 7
    assert run.counts["jobs"]["unchanged"] == JOBS - len(moved)
    new_events = JobStatusEvent.objects.exclude(from_state="").select_related("job")
    assert {e.job.hwa_id for e in new_events} == moved
    mirrored = dict(Job.objects.values_list("hwa_id", "internal_state"))
    assert mirrored == {job.hwa_id: job.state for job in sim.plan.jobs}


def test_an_unchanged_plan_writes_nothing(hwa) -> None:
    plan_sync(client=hwa)

    run = plan_sync(client=hwa)

    assert run.counts["jobs"]["unchanged"] == JOBS
    assert run.events == 0


def test_vanished_jobs_are_deleted_with_their_events(sim, hwa) -> None:
    plan_sync(client=hwa)
    gone = sim.plan.jobs.pop()
    del sim.plan._by_id[gone.hwa_id]

    run = plan_sync(client=hwa)

    assert run.counts["jobs"]["removed"] == 1
    assert not Job.objects.filter(hwa_id=gone.hwa_id).exists()


def test_malformed_json_fails_the_run_and_leaves_the_mirror_unchanged(sim, hwa) -> None:
    plan_sync(client=hwa)
    snapshot = sorted(Job.objects.values_list("hwa_id", "internal_state"))
    sim.plan.tick(3)
    sim.set_faults(malformed_json=True)

    run = plan_sync(client=hwa)

    assert run.status == SyncRun.Status.FAILED
    assert MALFORMED_JSON.split(" for ")[0] in run.error
    assert sorted(Job.objects.values_list("hwa_id", "internal_state")) == snapshot


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_syncs_do_the_work_once(hwa) -> None:
    if db_connection.vendor != "postgresql":
        pytest.skip("threads sharing SQLite's in-memory test database cannot queue for locks")
    runs: list[SyncRun] = []
    barrier = threading.Barrier(2)

    def sync() -> None:
        barrier.wait()
        try:
            runs.append(plan_sync(client=hwa))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sync) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(run.status for run in runs) == ["ok", "skipped"]
    assert next(r for r in runs if r.status == "skipped").error == SKIPPED_DETAIL
    assert Job.objects.count() == JOBS
    assert JobStatusEvent.objects.count() == JOBS


def test_a_claimed_run_makes_another_skip(hwa) -> None:
    SyncRun.objects.create(status=SyncRun.Status.RUNNING)
    if db_connection.vendor == "postgresql":
        pytest.skip("PostgreSQL claims with an advisory lock (see the concurrent test)")

    run = plan_sync(client=hwa)

    assert run.status == SyncRun.Status.SKIPPED
    assert not Job.objects.exists()


# --- one run per interval between several loops -----------------------------------------
def test_a_loop_skips_when_another_process_synced_within_its_interval(sim, hwa) -> None:
    plan_sync(client=hwa)  # another loop's run, just now
    requests = sim.request_count()

    run = plan_sync(client=hwa, every=timedelta(seconds=60))

    assert (run.status, run.error) == (SyncRun.Status.SKIPPED, SYNCED_RECENTLY)
    assert sim.request_count() == requests  # HWA was not asked


def test_a_loop_syncs_once_the_last_run_is_an_interval_old(sim, hwa) -> None:
    plan_sync(client=hwa)
    an_interval_ago = timezone.now() - timedelta(seconds=60)
    SyncRun.objects.update(finished_at=an_interval_ago, last_finished_at=an_interval_ago)

    run = plan_sync(client=hwa, every=timedelta(seconds=60))

    assert run.status == SyncRun.Status.OK, run.error


def test_a_failed_run_counts_as_the_intervals_run(sim, hwa) -> None:
    sim.set_faults(error_rate=1.0)
    assert plan_sync(client=hwa).status == SyncRun.Status.FAILED
    sim.set_faults(error_rate=0.0)

    run = plan_sync(client=hwa, every=timedelta(seconds=60))

    assert (run.status, run.error) == (SyncRun.Status.SKIPPED, SYNCED_RECENTLY)


def test_a_sync_without_an_interval_runs_however_recent_the_last(hwa) -> None:
    plan_sync(client=hwa)

    assert plan_sync(client=hwa).status == SyncRun.Status.OK


# --- workstations HWA stops listing ------------------------------------------------------
def test_a_workstation_hwa_stops_listing_is_marked_gone_and_comes_back(sim, hwa) -> None:
    spare = SimWorkstation("ws-spare", "AGT999", "AGENT", "LINKED")  # no job runs on it
    sim.plan.workstations.append(spare)
    plan_sync(client=hwa)
    sim.plan.workstations.remove(spare)

    run = plan_sync(client=hwa)

    row = Workstation.objects.get(name="AGT999")
    assert row.gone_at is not None
    assert run.counts["workstations"]["removed"] == 1
    assert not Workstation.objects.exclude(name="AGT999").filter(gone_at__isnull=False).exists()
    sim.plan.workstations.append(spare)
    plan_sync(client=hwa)
    assert Workstation.objects.get(name="AGT999").gone_at is None


def test_a_workstation_jobs_still_run_on_is_not_gone(sim, hwa) -> None:
    plan_sync(client=hwa)
    used = sim.plan.jobs[0].workstation
    sim.plan.workstations = [ws for ws in sim.plan.workstations if ws.name != used]

    plan_sync(client=hwa)

    assert Workstation.objects.get(name=used).gone_at is None


# --- job stream states --------------------------------------------------------------------
def test_the_mirror_keeps_the_stream_state_hwa_reports(sim, hwa) -> None:
    sim.plan.tick(5)
    plan_sync(client=hwa)

    mirrored = dict(JobStream.objects.values_list("hwa_id", "state"))
    assert mirrored == {s.hwa_id: s.internal_state for s in sim.plan.streams}
    assert len(set(mirrored.values())) >= 3


def test_a_stream_hwa_does_not_describe_gets_the_state_its_jobs_imply(sim, hwa) -> None:
    stream = next(s for s in sim.plan.streams if s.internal_state == "EXEC")
    sim.plan.streams.remove(stream)  # listed by its jobs only

    plan_sync(client=hwa)

    mirrored = JobStream.objects.get(hwa_id=stream.hwa_id)
    assert mirrored.state == stream_state([j.state for j in stream.jobs], due=True) == "EXEC"


# --- compact run history ------------------------------------------------------------------
def test_runs_that_change_nothing_are_counted_on_one_row(hwa) -> None:
    plan_sync(client=hwa)  # creates the mirror: a row of its own
    for _ in range(3):
        last = plan_sync(client=hwa)

    rows = list(SyncRun.objects.order_by("started_at"))
    assert len(rows) == 2
    unchanged = rows[1]
    assert unchanged.repeats == 2
    assert unchanged.last_finished_at == last.finished_at > unchanged.finished_at
    freshness_reset()
    assert plan_freshness() == Freshness(unchanged.last_finished_at, "ok")


def test_a_run_that_changes_something_gets_its_own_row(sim, hwa) -> None:
    plan_sync(client=hwa)
    plan_sync(client=hwa)
    sim.plan.tick()

    run = plan_sync(client=hwa)

    assert SyncRun.objects.count() == 3
    assert SyncRun.objects.get(pk=run.pk).repeats == 0


@pytest.mark.django_db(transaction=True)  # checks run in threads: committed rows only
def test_health_sees_the_latest_repeat(hwa_connection, hwa) -> None:
    plan_sync(client=hwa)
    plan_sync(client=hwa)
    plan_sync(client=hwa)
    folded = SyncRun.objects.get(repeats=1)
    # The row's own run is long past; only its repeat is recent.
    SyncRun.objects.filter(pk=folded.pk).update(finished_at=timezone.now() - timedelta(hours=1))

    assert health_report()["components"]["hwa_sync"]["status"] == "healthy"


def test_a_repeat_after_the_fold_window_starts_a_new_row(hwa) -> None:
    plan_sync(client=hwa)
    plan_sync(client=hwa)
    old = timezone.now() - FOLD_WINDOW - timedelta(minutes=1)
    SyncRun.objects.update(started_at=old)

    plan_sync(client=hwa)

    assert SyncRun.objects.count() == 3


def test_skipped_runs_are_counted_on_one_row(hwa) -> None:
    with _another_sync_running():
        runs = [plan_sync(client=hwa) for _ in range(3)]

    assert {run.status for run in runs} == {SyncRun.Status.SKIPPED}
    skipped = SyncRun.objects.get(status=SyncRun.Status.SKIPPED)
    assert skipped.repeats == 2
    assert skipped.last_finished_at == runs[-1].finished_at


@contextmanager
def _another_sync_running() -> Iterator[None]:
    """Hold the sync's claim as another process would."""
    if db_connection.vendor != "postgresql":
        claim = SyncRun.objects.create(status=SyncRun.Status.RUNNING)
        yield
        claim.delete()
        return
    other = connections.create_connection("default")
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        try:
            yield
        finally:
            # Unlock before closing: a pooled connection would keep the session's lock.
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    other.close()


def test_each_run_has_its_own_request_id_and_sends_it_to_hwa(sim, hwa) -> None:
    sim.reset_counts()
    first = plan_sync(client=hwa)
    sent_first = set(sim.request_ids())
    sim.reset_counts()
    sim.plan.tick(1)  # a change, so the second run gets a row of its own
    second = plan_sync(client=hwa)

    assert first.request_id != second.request_id
    assert "" not in (first.request_id, second.request_id)
    assert sent_first == {first.request_id}
    assert set(sim.request_ids()) == {second.request_id}
    stored = SyncRun.objects.order_by("started_at").values_list("request_id", flat=True)
    assert list(stored) == [first.request_id, second.request_id]


def test_a_run_started_within_a_request_keeps_its_id(sim, hwa) -> None:
    from apps.core.middleware import request_id_context

    with request_id_context("api-call-9"):
        run = plan_sync(client=hwa)

    assert run.request_id == "api-call-9"
    assert set(sim.request_ids()) == {"api-call-9"}


# --- re-syncs that reuse the last run's parsed records (parsing.RecordMemo) -------------
def _move_stream(plan, job) -> None:
    other = next(s for s in plan.streams if s is not job.stream)
    job.stream.jobs.remove(job)
    other.jobs.append(job)
    job.stream = other


def _move_workstation(plan, job) -> None:
    job.workstation = next(w.name for w in plan.workstations if w.name != job.workstation)


# One change in HWA per synced field (JOB_SYNCED_FIELDS), made on a simulated job.
CHANGES = {
    "name": lambda plan, job: setattr(job, "name", job.name + "_V2"),
    "stream_id": _move_stream,
    "workstation_id": _move_workstation,
    "internal_state": lambda plan, job: setattr(
        job, "state", "ABEND" if job.state != "ABEND" else "SUCC"
    ),
    "return_code": lambda plan, job: setattr(job, "return_code", (job.return_code or 0) + 7),
    "start": lambda plan, job: setattr(job, "start", (job.start or plan.now) - timedelta(hours=1)),
    "end": lambda plan, job: setattr(job, "end", (job.end or plan.now) + timedelta(hours=1)),
    "rerun_count": lambda plan, job: setattr(job, "rerun_count", job.rerun_count + 1),
}


def _synced(hwa_id: str) -> dict:
    """A mirrored job's synced fields, with its stream and workstation by HWA's names."""
    job = Job.objects.select_related("stream", "workstation").get(hwa_id=hwa_id)
    values = {name: getattr(job, name) for name in JOB_SYNCED_FIELDS}
    values["stream_id"], values["workstation_id"] = job.stream.hwa_id, job.workstation.name
    return values


def _restarted_client(hwa_connection) -> HwaClient:
    """A client as a new process has it: nothing parsed before."""
    return HwaClient(client_settings(hwa_connection, max_retries=0))


def test_every_synced_field_has_a_change_test() -> None:
    assert set(CHANGES) == set(JOB_SYNCED_FIELDS)


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_a_change_of_any_synced_field_is_written_by_a_resync_that_reuses_records(
    sim, hwa, hwa_connection, monkeypatch, field
) -> None:
    plan_sync(client=hwa)
    plan_sync(client=hwa)  # the second run reuses every record: the memo is warm
    job = sim.plan.jobs[11]
    before = _synced(job.hwa_id)
    CHANGES[field](sim.plan, job)
    job.touch()

    run = plan_sync(client=hwa)

    assert run.counts["jobs"]["updated"] == 1
    after = _synced(job.hwa_id)
    assert after[field] != before[field]
    assert {k: v for k, v in after.items() if k != field} == {
        k: v for k, v in before.items() if k != field
    }
    with _restarted_client(hwa_connection) as cold:
        assert plan_sync(client=cold).counts["jobs"]["updated"] == 0  # nothing left to fix


@pytest.mark.parametrize("flavour", ["v1", "v2"])
def test_new_and_vanished_jobs_are_handled_by_a_resync_that_reuses_records(
    sim, hwa_connection, flavour
) -> None:
    settings = dataclasses.replace(client_settings(hwa_connection, max_retries=0), flavour=flavour)
    with HwaClient(settings) as hwa:
        plan_sync(client=hwa)
        plan = sim.plan
        gone = plan.jobs.pop()
        del plan._by_id[gone.hwa_id]
        new = dataclasses.replace(plan.jobs[0], hwa_id="NEW-1", name="NEW_JOB", v1=None, v2=None)
        plan.jobs.append(new)
        plan._by_id[new.hwa_id] = new

        run = plan_sync(client=hwa)

    assert run.counts["jobs"] == {"created": 1, "updated": 0, "unchanged": JOBS - 1, "removed": 1}
    assert not Job.objects.filter(hwa_id=gone.hwa_id).exists()
    assert _synced("NEW-1")["name"] == "NEW_JOB"


def test_a_restarted_process_parses_everything_and_finds_only_real_changes(
    sim, hwa, hwa_connection, monkeypatch
) -> None:
    plan_sync(client=hwa)
    before = {job.hwa_id: job.state for job in sim.plan.jobs}
    sim.plan.tick(2)
    moved = {job.hwa_id for job in sim.plan.jobs if before[job.hwa_id] != job.state}

    with _restarted_client(hwa_connection) as cold:
        run = plan_sync(client=cold)

    assert moved
    assert run.counts["jobs"]["updated"] >= len(moved)  # a tick also moves times and codes
    assert run.counts["jobs"]["created"] == run.counts["jobs"]["removed"] == 0
    for job in sim.plan.jobs:
        assert Job.objects.get(hwa_id=job.hwa_id).internal_state == job.state


def test_a_change_whose_write_rolled_back_is_written_by_the_next_run(sim, hwa, monkeypatch) -> None:
    plan_sync(client=hwa)
    before = {job.hwa_id: job.state for job in sim.plan.jobs}
    sim.plan.tick(2)
    moved = {job.hwa_id for job in sim.plan.jobs if before[job.hwa_id] != job.state}

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patch:  # fails after the changed jobs were upserted
        patch.setattr(MirrorWriter, "jobs_delete", fail)
        failed = plan_sync(client=hwa)
    assert failed.status == SyncRun.Status.FAILED
    assert all(Job.objects.get(hwa_id=h).internal_state == before[h] for h in moved)

    run = plan_sync(client=hwa)  # the same records again, this time from the memo

    assert run.counts["jobs"]["updated"] == len(moved)
    assert all(Job.objects.get(hwa_id=h).internal_state != before[h] for h in moved)


def test_rows_digested_another_way_are_rewritten_once_without_events(sim, hwa) -> None:
    """E.g. rows an older release digested (repr, not JSON): their values are right, their
    digests differ; the next run rewrites them (no state moved: no event), the one after
    finds nothing to do."""
    plan_sync(client=hwa)
    Job.objects.update(sync_hash=12345)
    events = JobStatusEvent.objects.count()

    rewritten = plan_sync(client=hwa)

    assert rewritten.counts["jobs"] == {"created": 0, "updated": JOBS, "unchanged": 0, "removed": 0}
    assert JobStatusEvent.objects.count() == events
    assert plan_sync(client=hwa).counts["jobs"]["unchanged"] == JOBS


def test_a_mirror_row_another_writer_changed_is_put_back_by_a_resync(sim, hwa) -> None:
    plan_sync(client=hwa)
    plan_sync(client=hwa)
    job = Job.objects.get(hwa_id=sim.plan.jobs[5].hwa_id)
    record = dataclasses.replace(
        parse_job({"id": job.hwa_id, "name": job.name}), internal_state="ZZTOP"
    )
    job_mirror_update(job=job, record=record)  # e.g. an action's read-back, since moved on

    run = plan_sync(client=hwa)

    assert run.counts["jobs"]["updated"] == 1
    assert Job.objects.get(hwa_id=job.hwa_id).internal_state == sim.plan.jobs[5].state
