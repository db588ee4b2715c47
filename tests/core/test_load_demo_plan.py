from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from apps.core.models import Job, JobStatusEvent, Workstation
from apps.core.states import CURRENT_INTERNAL_STATES
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


def test_the_same_seed_gives_the_same_plan():
    _load("--jobs", "300", "--seed", "7")
    first = list(Job.objects.order_by("hwa_id").values_list("name", "internal_state"))
    _load("--jobs", "300", "--seed", "7", "--replace")
    assert list(Job.objects.order_by("hwa_id").values_list("name", "internal_state")) == first


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
    assert JobFactory().id > 50


def test_it_rejects_a_silly_job_count():
    with pytest.raises(CommandError, match="--jobs"):
        _load("--jobs", "0")
