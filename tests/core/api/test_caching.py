"""Cached plan reads: served from the cache until the plan generation moves."""

from __future__ import annotations

import pytest

from apps.cache.selectors import cache_stats
from apps.core.api import caching
from apps.core.api.caching import CACHE_HEADER
from apps.core.models import Job
from apps.core.plan_generation import plan_generation_bump
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
    assert cached.json()["name"] == "PAYROLL"  # written around the mirror: the cached value
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


def _cached_entries() -> int:
    return cache_stats()["tiers"]["l1"]["total"]["entries"]


def test_junk_parameters_never_reach_the_cache(viewer_client, job):
    assert viewer_client.get("/api/v1/jobs/")[CACHE_HEADER] == "miss"
    entries = _cached_entries()
    for n in range(20):
        assert viewer_client.get(f"/api/v1/jobs/?junk={n}").status_code == 400
        assert viewer_client.get(f"/api/v1/jobs/{job.pk}/?junk={n}").status_code == 400
        assert viewer_client.get(f"/api/v1/jobs/status/?junk={n}").status_code == 400
    assert _cached_entries() == entries


def test_repeated_or_reordered_values_of_a_filter_share_one_key(viewer_client, job):
    assert viewer_client.get("/api/v1/jobs/?status=Error&status=Held")[CACHE_HEADER] == "miss"
    for query in ("status=Held&status=Error", "status=Error&status=Held&status=Error"):
        assert viewer_client.get(f"/api/v1/jobs/?{query}")[CACHE_HEADER] == "hit"


def test_key_digests_are_remembered_for_a_bounded_number_of_urls(viewer_client, job, monkeypatch):
    monkeypatch.setattr(caching, "_digests", {})
    monkeypatch.setattr(caching, "DIGESTS_MAX", 2)
    queries = ["status=Error", "status=Held", "status=Blocked", "status=Error"]
    for query in queries:
        assert viewer_client.get(f"/api/v1/jobs/?{query}").status_code == 200
    assert len(caching._digests) == 2
    # A URL past the bound is still served from its cache entry: its key is only recomputed.
    assert viewer_client.get("/api/v1/jobs/?status=Blocked")[CACHE_HEADER] == "hit"


def test_each_host_reads_its_own_links_and_a_disallowed_host_is_refused(viewer_client, job):
    # Pagination links are absolute: a list read through another name must not get the
    # first name's links from the cache, remembered digest or not.
    JobFactory()
    for _ in range(2):
        local = viewer_client.get("/api/v1/jobs/?page_size=1", HTTP_HOST="localhost").json()
        loopback = viewer_client.get("/api/v1/jobs/?page_size=1", HTTP_HOST="127.0.0.1").json()
        assert local["next"].startswith("http://localhost/")
        assert loopback["next"].startswith("http://127.0.0.1/")
    refused = viewer_client.get("/api/v1/jobs/?page_size=1", HTTP_HOST="evil.example")
    assert refused.status_code == 400
