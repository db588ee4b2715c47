"""GET /metrics and `metrics.collect()` in one process: what is counted, how it is labelled,
who may scrape. (Several worker processes: test_metrics_processes.py.)"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.db import connection as db_connection
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from apps.core.hwa.errors import HwaUnavailable
from apps.core.models import SyncRun
from apps.core.services.hwa import hwa_client
from apps.core.services.sync import plan_sync
from apps.monitoring import metrics
from apps.monitoring.metrics import live, stored
from apps.monitoring.metrics.middleware import UNMATCHED, route_template
from apps.security.api_keys.services import api_key_create
from apps.security.scopes import MONITORING_READ, PLAN_READ
from tests.core.sync_fixtures import JOBS
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db
METRICS = "/metrics"
REQUESTS = "resync_http_requests_total"


def _value(name: str, **labels: str) -> float:
    return metrics.value(name, **labels) or 0.0


def _scrape(client: APIClient, **headers: str) -> dict[str, float]:
    """The scrape's samples as {'name{label="value",...}': value}."""
    response = client.get(METRICS, **headers)
    assert response.status_code == 200, response.content
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found


# --- requests: counted by route template, method and status class --------------------------


def test_requests_are_counted_by_route_template_never_the_raw_path(viewer_client):
    job = JobFactory()
    labels = {"route": "/api/v1/jobs/{pk}/", "method": "GET", "status": "2xx"}
    before = _value(REQUESTS, **labels)
    duration_before = _value("resync_http_request_duration_seconds_count", route=labels["route"])

    for _ in range(3):
        assert viewer_client.get(f"/api/v1/jobs/{job.pk}/").status_code == 200

    assert _value(REQUESTS, **labels) == before + 3
    assert _value("resync_http_request_duration_seconds_count", route=labels["route"]) == (
        duration_before + 3
    )
    routes = {sample.labels["route"] for sample in metrics.samples(REQUESTS)}
    assert not [route for route in routes if f"/{job.pk}/" in route]


def test_the_status_is_a_class_and_an_unknown_path_is_unmatched(viewer_client, anon_client):
    not_found = {"route": "/api/v1/jobs/{pk}/", "method": "GET", "status": "4xx"}
    before = _value(REQUESTS, **not_found)
    unmatched_before = _value(REQUESTS, route=UNMATCHED, status="4xx")

    assert viewer_client.get("/api/v1/jobs/987654321/").status_code == 404
    assert anon_client.get("/wp-login.php").status_code == 404
    assert anon_client.get("/api/v1/jobs/").status_code == 401

    assert _value(REQUESTS, **not_found) == before + 1
    assert _value(REQUESTS, route=UNMATCHED, status="4xx") == unmatched_before + 1
    assert not metrics.samples(REQUESTS, route="/wp-login.php")


def test_an_answer_given_before_the_view_still_has_its_route(admin_client_api):
    labels = {"route": "/api/v1/config/cache/", "method": "PATCH", "status": "4xx"}
    before = _value(REQUESTS, **labels)

    response = admin_client_api.generic(
        "PATCH", "/api/v1/config/cache/", "{}", content_type="application/json",
        CONTENT_LENGTH=str(10**10),
    )  # fmt: skip

    assert response.status_code == 413  # refused by a middleware, before URL resolution
    assert _value(REQUESTS, **labels) == before + 1


def test_an_unknown_method_is_counted_as_other(anon_client):
    before = _value(REQUESTS, route="/api/v1/health/live/", method="other")

    anon_client.generic("BREW", "/api/v1/health/live/")

    assert _value(REQUESTS, route="/api/v1/health/live/", method="other") == before + 1


@pytest.mark.parametrize(
    ("route", "template"),
    [
        ("api/v1/jobs/(?P<pk>\\d+)/$", "/api/v1/jobs/{pk}/"),
        ("api/v1/^jobs/$", "/api/v1/jobs/"),
        ("api/v1/jobs/<int:pk>/actions/<str:action>/", "/api/v1/jobs/{pk}/actions/{action}/"),
        ("admin/core/job/<path:object_id>/change/", "/admin/core/job/{object_id}/change/"),
        ("metrics", "/metrics"),
        ("", "/"),
    ],
)
def test_a_url_pattern_becomes_a_template(route, template):
    assert route_template(route) == template


# --- who may scrape -----------------------------------------------------------------------


def test_monitoring_readers_scrape_and_others_are_refused(
    auditor_client, viewer_client, anon_client
):
    assert anon_client.get(METRICS).status_code == 401
    assert viewer_client.get(METRICS).status_code == 403
    response = auditor_client.get(METRICS)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert f"# TYPE {REQUESTS} counter" in response.content.decode()


def test_an_api_key_needs_the_monitoring_read_scope(auditor):
    def key_client(*scopes: str) -> APIClient:
        _, key = api_key_create(owner=auditor, name="-".join(scopes), scopes=scopes, actor=None,
                                source="test")  # fmt: skip
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        return client

    assert key_client(MONITORING_READ).get(METRICS).status_code == 200
    assert key_client(PLAN_READ).get(METRICS).status_code == 403


def test_an_allowed_address_scrapes_without_credentials(settings, anon_client):
    settings.RESYNC_METRICS_ALLOWED_IPS = ["10.0.0.0/8", "127.0.0.1"]

    assert anon_client.get(METRICS).status_code == 200  # the test client is 127.0.0.1
    assert anon_client.get(METRICS, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert anon_client.get(METRICS, REMOTE_ADDR="192.0.2.7").status_code == 401


def test_a_forged_forwarded_address_is_not_allowed(settings, anon_client):
    settings.RESYNC_METRICS_ALLOWED_IPS = ["10.0.0.0/8"]

    response = anon_client.get(METRICS, HTTP_X_FORWARDED_FOR="10.1.2.3")

    assert response.status_code == 401  # the peer is no trusted proxy: the header is ignored


def test_openmetrics_is_served_when_asked_for(auditor_client):
    response = auditor_client.get(METRICS, HTTP_ACCEPT="application/openmetrics-text")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.decode().endswith("# EOF\n")


def test_a_refusal_is_a_problem_body_whatever_the_scraper_accepts(anon_client):
    response = anon_client.get(METRICS, HTTP_ACCEPT="text/plain")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


# --- live figures: cache, pools, HWA ------------------------------------------------------


def test_cache_hits_and_misses_per_tier_follow_the_cache(auditor_client):
    before = _scrape(auditor_client)
    cache.set("metrics-test", "value")
    assert cache.get("metrics-test") == "value"
    assert cache.get("metrics-test-absent") is None

    after = _scrape(auditor_client)

    hits, misses = 'resync_cache_hits_total{tier="l1"}', 'resync_cache_misses_total{tier="l1"}'
    assert after[hits] == before[hits] + 1
    assert after[misses] >= before[misses] + 1  # a miss also asks Redis when configured
    assert after['resync_cache_entries{tier="l1"}'] >= 1
    assert 'resync_cache_evictions_total{reason="memory",tier="l1"}' in after


def test_a_counter_follows_its_source_and_counts_again_after_a_restart(monkeypatch):
    counter = Counter("source_total", "test", ["tier"], registry=CollectorRegistry())
    monkeypatch.setattr(live, "_published", {})

    for total in (5, 8, 8, 2, 3):  # the source restarts from 0 after 8 (a cache resize)
        live._count(counter, ("l1",), total)

    assert counter.labels("l1")._value.get() == 8 + 3


def test_the_database_pool_is_measured(auditor_client):
    if db_connection.vendor != "postgresql":
        pytest.skip("the database pool is PostgreSQL's")
    scraped = _scrape(auditor_client)

    assert scraped['resync_pool_size{pool="database"}'] >= 1
    assert 'resync_pool_exhaustions_total{pool="database"}' in scraped
    assert scraped["resync_database_unavailable{}"] == 0


def test_hwa_calls_are_timed_and_failures_counted_by_operation(sim, hwa):
    calls = "resync_hwa_request_duration_seconds_count"
    before = _value(calls, operation="list_jobs")
    assert plan_sync(client=hwa).status == SyncRun.Status.OK
    assert _value(calls, operation="list_jobs") >= before + JOBS // 100  # one per page

    refused = {"operation": "list_workstations", "kind": "http_4xx"}
    errors_before = _value("resync_hwa_errors_total", **refused)
    sim.set_faults(wrong_credentials=True)
    assert plan_sync(client=hwa).status == SyncRun.Status.FAILED
    assert _value("resync_hwa_errors_total", **refused) == errors_before + 1


def test_an_open_breaker_shows_and_its_refusals_are_counted(hwa_connection):
    client = hwa_client()
    for _ in range(client.breaker.snapshot().threshold):
        client.breaker.record_failure("HWA down (test)")
    refused = {"operation": "get_job", "kind": "circuit_open"}
    before = _value("resync_hwa_errors_total", **refused)

    with pytest.raises(HwaUnavailable):
        client.get_job("JOB1")

    families = metrics.collect()
    assert metrics.value("resync_hwa_circuit_breaker_state", families, state="open") == 1
    assert metrics.value("resync_hwa_circuit_breaker_state", families, state="closed") == 0
    assert metrics.value("resync_hwa_errors_total", families, **refused) == before + 1


# --- read from the database: sync and jobs ------------------------------------------------


def test_sync_state_and_jobs_per_status_come_from_the_database(hwa):
    families = metrics.collect()
    assert metrics.value("resync_sync_status", families, status="never") == 1
    assert not metrics.samples("resync_sync_last_success_timestamp_seconds", families)

    run = plan_sync(client=hwa)
    stored.stored_reset()
    families = metrics.collect()

    assert metrics.value("resync_sync_status", families, status="ok") == 1
    synced_at = metrics.value("resync_sync_last_success_timestamp_seconds", families)
    assert synced_at == pytest.approx(run.latest_finished_at.timestamp())
    assert metrics.value("resync_sync_last_run_duration_seconds", families) == pytest.approx(
        run.duration_s
    )
    created = {"kind": "jobs", "change": "created"}
    assert metrics.value("resync_sync_last_run_changed_rows", families, **created) == JOBS
    assert metrics.value("resync_jobs", families) == JOBS
    assert metrics.value("resync_metrics_database_up", families) == 1


def test_jobs_per_status_are_read_at_most_once_per_ttl(django_assert_num_queries):
    JobFactory.create_batch(2, internal_state="ABEND")
    JobFactory(internal_state="SUCC")
    first = metrics.collect()
    JobFactory(internal_state="ABEND")

    with django_assert_num_queries(0):
        again = metrics.collect()

    for families in (first, again):
        assert metrics.value("resync_jobs", families, status="Error") == 2
        assert metrics.value("resync_jobs", families, status="Successful") == 1
        assert metrics.value("resync_jobs", families, status="Held") == 0


def test_while_the_database_cannot_be_read_its_metrics_are_left_out(monkeypatch):
    def unavailable() -> dict:
        raise OperationalError("the database is unavailable (test)")

    monkeypatch.setattr(stored, "job_counts_by_status", unavailable)

    families = metrics.collect()

    assert metrics.value("resync_metrics_database_up", families) == 0
    assert not metrics.samples("resync_jobs", families)
    assert metrics.samples("resync_database_unavailable", families)  # the rest is served
