"""The mirror's one write path: every write that commits moves the plan generation.

Real commits (transaction=True): the generation moves on commit, as in production.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.core.models import ConfigVersion, Job, JobStatusEvent, Workstation
from apps.core.plan_generation import AREA, plan_generation
from apps.core.services.actions import job_action_perform
from apps.core.services.mirror import JOB_SYNCED_FIELDS, mirror_write
from apps.core.services.sync import plan_sync
from tests.core.sync_fixtures import waiting_job

pytestmark = pytest.mark.django_db(transaction=True)

# Job columns that are not HWA's: ours, or derived by the database.
JOB_BOOKKEEPING = {"id", "hwa_id", "status", "updated_at", "sync_hash"}


def _stored() -> int:
    return ConfigVersion.objects.get(name=AREA).version


def test_a_first_sync_moves_the_generation(hwa):
    before = plan_generation()

    plan_sync(client=hwa)

    assert plan_generation() > before
    assert plan_generation() == _stored()  # where the other processes read it


def test_a_sync_that_changes_the_plan_moves_the_generation(sim, hwa):
    plan_sync(client=hwa)
    before = plan_generation()
    sim.plan.tick(2)

    run = plan_sync(client=hwa)

    assert run.counts["jobs"]["updated"] > 0
    assert plan_generation() > before


def test_a_sync_that_changes_nothing_keeps_the_generation(hwa):
    plan_sync(client=hwa)
    before, stored = plan_generation(), _stored()

    run = plan_sync(client=hwa)

    assert run.status == "ok"
    assert run.counts["jobs"]["unchanged"] == Job.objects.count()
    assert (plan_generation(), _stored()) == (before, stored)


def test_a_job_read_back_after_an_action_moves_the_generation(sim, hwa):
    plan_sync(client=hwa)
    job = waiting_job(sim)
    before = plan_generation()

    job_action_perform(job=job, action="hold", actor=None, source="test")

    assert plan_generation() > before
    job.refresh_from_db()
    assert job.internal_state == "HOLD"
    assert JobStatusEvent.objects.filter(job=job, from_state="WAIT", to_state="HOLD").exists()


def test_a_read_back_job_counts_as_unchanged_at_the_next_sync(sim, hwa):
    plan_sync(client=hwa)
    job_action_perform(job=waiting_job(sim), action="hold", actor=None, source="test")
    events = JobStatusEvent.objects.count()

    run = plan_sync(client=hwa)

    assert run.counts["jobs"]["updated"] == 0  # the read-back stored the sync's digest
    assert JobStatusEvent.objects.count() == events  # and its event is not written twice


def test_loading_a_demo_plan_moves_the_generation_and_so_does_replacing_it():
    before = plan_generation()
    call_command("load_demo_plan", "--jobs", "40", stdout=StringIO(), stderr=StringIO())
    loaded = plan_generation()
    assert loaded > before

    call_command("load_demo_plan", "--jobs", "40", "--seed", "2", "--replace", stdout=StringIO())
    assert plan_generation() > loaded


def _write_then_fail() -> None:
    with mirror_write() as mirror:
        mirror.create(Workstation, [Workstation(name="AGENT001", type="AGENT")])
        raise RuntimeError("the rest of the change failed")


def test_a_write_that_rolls_back_keeps_the_generation():
    before = plan_generation()

    with pytest.raises(RuntimeError):
        _write_then_fail()

    assert not Workstation.objects.exists()
    assert plan_generation() == before


def test_every_job_field_from_hwa_is_a_synced_field():
    fields = {f.attname for f in Job._meta.concrete_fields}

    assert fields - JOB_BOOKKEEPING == set(JOB_SYNCED_FIELDS)
