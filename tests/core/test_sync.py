"""The plan sync against the real simulator over HTTP (PostgreSQL when DATABASE_URL is set)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection as db_connection
from django.db import connections

from apps.core.hwa.errors import MALFORMED_JSON
from apps.core.models import Job, JobStatusEvent, JobStream, SyncRun, Workstation
from apps.core.services.sync import SKIPPED_DETAIL, plan_sync
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
