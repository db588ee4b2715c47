"""Queries per page do not grow with the plan: the same count on a small and a larger plan,
on a cold cache (the page computes) and a warm one (it is served from the cache)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.console import jobs, overview
from apps.core.models import Job, JobStatusEvent, JobStream, Workstation
from apps.core.services.demo_plan import demo_plan_load
from tests.core.console.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_minute(monkeypatch):
    # The overview is cached per minute: a count must not depend on a minute turning over
    # between two requests.
    monkeypatch.setattr(overview, "minute_of", lambda now: "fixed")
    monkeypatch.setattr(jobs, "minute_of", lambda now: "fixed")


PAGES = {
    "overview": lambda: reverse("home"),
    "overview live": lambda: reverse("console-overview-live"),
    "jobs": lambda: reverse("console-jobs"),
    "jobs filtered": lambda: f"{reverse('console-jobs')}?status=Error&status=Held&ordering=-end",
    "job": lambda: reverse("console-job", args=[Job.objects.order_by("-id").first().pk]),
    "streams": lambda: reverse("console-streams"),
    "workstations": lambda: reverse("console-workstations"),
}
SYSTEM = {"system": lambda: reverse("console-system")}
# The session (the user and their permissions are remembered), then the page's own reads.
MAX_QUERIES = 14


def _wipe() -> None:
    for model in (JobStatusEvent, Job, JobStream, Workstation):
        model.objects.all().delete()


def _counts(client, pages) -> dict[str, tuple[int, int]]:
    counts = {}
    client.get(pages[next(iter(pages))]())  # the user is read once, then remembered
    for name, path in pages.items():
        url = path()
        cache.clear()
        with CaptureQueriesContext(connection) as cold:
            assert client.get(url).status_code == 200, name
        with CaptureQueriesContext(connection) as warm:
            client.get(url)
        counts[name] = (len(cold), len(warm))
    return counts


def test_plan_pages_cost_the_same_on_any_plan_size(operator):
    client = signed_in(operator)
    demo_plan_load(jobs=40, seed=1)
    small = _counts(client, PAGES)
    _wipe()
    demo_plan_load(jobs=1200, seed=1)
    large = _counts(client, PAGES)

    assert small == large
    assert max(cold for cold, _ in large.values()) <= MAX_QUERIES, large


def test_cached_pages_skip_the_plan_reads(operator):
    demo_plan_load(jobs=200, seed=2)

    counts = _counts(signed_in(operator), PAGES)

    for name in ("overview", "jobs", "jobs filtered"):
        cold, warm = counts[name]
        assert warm < cold, (name, counts[name])


def test_the_system_page_costs_the_same_on_any_plan_size(administrator):
    client = signed_in(administrator)
    demo_plan_load(jobs=40, seed=1)
    small = _counts(client, SYSTEM)
    demo_plan_load(jobs=400, seed=2)

    assert _counts(client, SYSTEM) == small


def test_a_cached_page_costs_the_session_read_alone(operator, settings):
    demo_plan_load(jobs=100, seed=2)

    counts = _counts(signed_in(operator), PAGES)

    # The user and their permissions come from the user cache, the content from the page
    # cache; the session from Redis when there is one (cached_db), else the database.
    session_queries = 0 if settings.SESSION_ENGINE.endswith("cached_db") else 1
    for name in ("overview", "jobs", "jobs filtered"):
        assert counts[name][1] == session_queries, (name, counts[name])
