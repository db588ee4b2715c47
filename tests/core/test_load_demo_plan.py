from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from apps.core.models import Job, JobStatusEvent, JobStream, Workstation
from apps.core.states import CURRENT_INTERNAL_STATES, ENDED_JOB_STATES, stream_state
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def _load(*args: str) -> str:
    out = StringIO()
    call_command("load_demo_plan", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_loads_a_plan_with_every_internal_state_and_several_workstation_types():
    output = _load("--jobs", "600", "--seed", "3")
    assert Job.objects.count() == 600
    assert set(CURRENT_INTERNAL_STATES) <= set(Job.objects.values_list("internal_state", flat=True))
    assert Workstation.objects.values("type").distinct().count() >= 4
    assert JobStatusEvent.objects.exists()
    assert "Loaded 600 jobs" in output


def test_ended_jobs_have_times_and_return_codes_and_waiting_ones_do_not():
    _load("--jobs", "400")
    assert not Job.objects.filter(internal_state="SUCC", return_code__isnull=True).exists()
    assert not Job.objects.filter(internal_state="SUCC", end__lt=F("start")).exists()
    assert not Job.objects.filter(internal_state="WAIT", start__isnull=False).exists()


def test_no_time_in_the_plan_is_in_the_future():
    _load("--jobs", "2000", "--seed", "4")
    now = timezone.now()
    assert not Job.objects.filter(Q(start__gt=now) | Q(end__gt=now)).exists()
    assert not JobStatusEvent.objects.filter(at__gt=now).exists()
    assert Job.objects.filter(start__isnull=False).count() > 500  # a day two thirds gone


def test_no_job_started_before_its_stream_and_ended_jobs_have_an_end():
    _load("--jobs", "2000", "--seed", "4")
    assert not Job.objects.filter(start__lt=F("stream__scheduled_time")).exists()
    assert not Job.objects.filter(end__lt=F("start")).exists()
    launched_and_ended = Job.objects.filter(internal_state__in=ENDED_JOB_STATES - {"SUPPR"})
    assert not launched_and_ended.filter(Q(start__isnull=True) | Q(end__isnull=True)).exists()
    assert not Job.objects.filter(internal_state="EXEC", end__isnull=False).exists()
    waiting = Job.objects.filter(internal_state__in=("WAIT", "READY", "HOLD", "SCHED"))
    assert not waiting.filter(Q(start__isnull=False) | Q(return_code__isnull=False)).exists()


def test_streams_that_wait_for_their_time_have_only_waiting_jobs():
    _load("--jobs", "2000", "--seed", "4")
    now = timezone.now()
    future = Job.objects.filter(stream__scheduled_time__gt=now)
    assert future.exists()
    assert not future.filter(start__isnull=False).exists()


def test_each_stream_state_follows_its_jobs():
    _load("--jobs", "2000", "--seed", "4")
    now = timezone.now()
    jobs_by_stream: dict[int, list[str]] = {}
    for stream_id, state in Job.objects.values_list("stream_id", "internal_state"):
        jobs_by_stream.setdefault(stream_id, []).append(state)
    streams = list(JobStream.objects.all())
    for stream in streams:
        due = stream.scheduled_time <= now
        assert stream.state == stream_state(jobs_by_stream.get(stream.id, []), due=due), stream
    assert {"HOLD", "EXEC", "SUCC", "ABEND"} <= {stream.state for stream in streams}


def test_the_same_seed_gives_the_same_plan():
    _load("--jobs", "300", "--seed", "7")
    fields = ("name", "internal_state", "stream__state")
    first = list(Job.objects.order_by("hwa_id").values_list(*fields))
    _load("--jobs", "300", "--seed", "7", "--replace")
    assert list(Job.objects.order_by("hwa_id").values_list(*fields)) == first


def test_it_refuses_to_overwrite_a_plan_without_replace():
    _load("--jobs", "50")
    with pytest.raises(CommandError, match="--replace"):
        _load("--jobs", "50")


def test_if_empty_leaves_a_loaded_plan_alone():
    _load("--jobs", "50")
    assert "nothing to do" in _load("--jobs", "80", "--if-empty")
    assert Job.objects.count() == 50


def test_new_rows_get_fresh_ids_after_the_load():
    _load("--jobs", "50")
    assert JobFactory(hwa_id="ADDED-LATER").id > 50


def test_it_rejects_a_silly_job_count():
    with pytest.raises(CommandError, match="--jobs"):
        _load("--jobs", "0")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_a_loaded_plan_leaves_the_planner_statistics_current():
    # Stale statistics made the console's late-jobs read a 14 s nested loop on 100,000 jobs.
    from apps.core.services.demo_plan import demo_plan_load

    demo_plan_load(jobs=200, seed=3)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_live_tup, last_analyze FROM pg_stat_user_tables WHERE relname = 'core_job'"
        )
        _live, analyzed = cursor.fetchone()
    assert analyzed is not None
