"""Cached plan reads: served from the cache until a plan sync bumps the generation."""

from __future__ import annotations

import pytest

from apps.core.api.caching import CACHE_HEADER
from apps.core.models import Job
from apps.core.plan_generation import plan_generation, plan_generation_bump
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def job():
    return JobFactory(name="PAYROLL", internal_state="SUCC")


def test_a_job_detail_is_cached_until_the_generation_moves(viewer_client, job):
    url = f"/api/v1/jobs/{job.pk}/"
    assert viewer_client.get(url)[CACHE_HEADER] == "miss"
    Job.objects.filter(pk=job.pk).update(name="PAYROLL_V2")
    cached = viewer_client.get(url)
    assert cached[CACHE_HEADER] == "hit"
    assert cached.json()["name"] == "PAYROLL"  # no sync bump: the cached value
    plan_generation_bump()
    assert viewer_client.get(url).json()["name"] == "PAYROLL_V2"


def test_job_lists_are_cached_per_query_and_page(viewer_client, job):
    JobFactory.create_batch(2, internal_state="ABEND")
    assert viewer_client.get("/api/v1/jobs/?status=Error").json()["count"] == 2
    first = viewer_client.get("/api/v1/jobs/?status=Error&page_size=1").json()
    second_page = viewer_client.get("/api/v1/jobs/?page_size=1&status=Error&page=2").json()
    assert first["results"][0]["id"] != second_page["results"][0]["id"]
    reordered = viewer_client.get("/api/v1/jobs/?page_size=1&status=Error")
    assert reordered[CACHE_HEADER] == "hit"  # same query, parameters in another order
    Job.objects.filter(pk=job.pk).update(internal_state="ABEND")
    assert viewer_client.get("/api/v1/jobs/?status=Error").json()["count"] == 2
    plan_generation_bump()
    assert viewer_client.get("/api/v1/jobs/?status=Error").json()["count"] == 3


def test_the_status_summary_follows_a_bump(viewer_client, job):
    assert viewer_client.get("/api/v1/jobs/status/").json()["total"] == 1
    JobFactory()
    assert viewer_client.get("/api/v1/jobs/status/").json()["total"] == 1
    plan_generation_bump()
    assert viewer_client.get("/api/v1/jobs/status/").json()["total"] == 2


def test_errors_are_not_cached(viewer_client):
    assert viewer_client.get("/api/v1/jobs/?page_size=0").status_code == 400
    missing = viewer_client.get("/api/v1/jobs/999999/")
    assert missing.status_code == 404
    assert CACHE_HEADER not in missing


def test_the_cache_switch_serves_reads_uncached(viewer_client, job, settings):
    settings.API_CACHE_ENABLED = False
    viewer_client.get(f"/api/v1/jobs/{job.pk}/")
    Job.objects.filter(pk=job.pk).update(name="RENAMED")
    response = viewer_client.get(f"/api/v1/jobs/{job.pk}/")
    assert response.json()["name"] == "RENAMED"
    assert CACHE_HEADER not in response


def test_each_bump_moves_the_generation_up_by_one():
    before = plan_generation()
    first = plan_generation_bump()
    assert first > before
    assert plan_generation_bump() == first + 1
    assert plan_generation() == first + 1


def test_reads_still_answer_with_redis_down(viewer_client, job, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "apps.cache.backends.TieredCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "KEY_PREFIX": "down",
            "OPTIONS": {
                "L1_LOCATION": "redis-down-test",
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
            },
        },
    }
    for url in ("/api/v1/jobs/status/", "/api/v1/jobs/", f"/api/v1/jobs/{job.pk}/"):
        assert viewer_client.get(url).status_code == 200
    assert viewer_client.get("/api/v1/jobs/status/").json()["total"] == 1
