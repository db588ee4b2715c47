"""Each metric kind measured from its real source: the Prometheus metrics Resync keeps, the
plan sync's rows, the jobs, the HWA client's breaker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection as db_connection
from django.utils import timezone

from apps import monitoring
from apps.core.models import HwaConnection, SyncRun
from apps.core.selectors.sync import freshness_reset
from apps.core.services.hwa import hwa_client
from apps.monitoring.alerts.measures import (
    NO_BASELINE,
    NOTHING_EXPECTED,
    SECURITY_EVENTS_UNAVAILABLE,
    Context,
    MeasureUnavailable,
    measure,
)
from apps.monitoring.metrics import definitions
from tests.factories import JobFactory
from tests.monitoring.alerts.conftest import make_rule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_default_rules")]
POSTGRESQL = db_connection.vendor == "postgresql"


def _twice(rule, between, *, seconds: float = 60.0):
    """Measure, do `between`, measure again `seconds` later: the second measurement."""
    start = timezone.now()
    first = measure(rule, Context(start))
    between()
    return first, measure(rule, Context(start + timedelta(seconds=seconds)))


# --- windowed measures --------------------------------------------------------------------------


def test_p95_comes_from_the_request_histogram_buckets_of_the_window():
    route = "/test/alerts/p95/"
    rule = make_rule(metric="response_time_p95", scope=route, threshold=1.0, min_samples=20)

    def requests():
        for _ in range(18):
            definitions.HTTP_DURATION.labels(route, "GET").observe(0.003)
        for _ in range(2):
            definitions.HTTP_DURATION.labels(route, "GET").observe(3.0)

    first, second = _twice(rule, requests)

    assert first.value is None
    assert first.detail == NO_BASELINE
    # Rank 19 of 20 is halfway through the (2.5 s, 5 s] bucket, as histogram_quantile says.
    assert second.value == pytest.approx(3.75)
    assert "over 20 requests in the last 60 s" in second.detail


def test_p95_of_real_requests_counts_exactly_those_requests(viewer_client):
    route = "/api/v1/jobs/status/"
    rule = make_rule(metric="response_time_p95", scope=route, threshold=1.0, min_samples=5)

    def requests():
        for _ in range(5):
            assert viewer_client.get(route).status_code == 200

    _, second = _twice(rule, requests)

    assert 0 < second.value <= 10
    assert "over 5 requests" in second.detail


def test_too_few_requests_in_the_window_is_no_data():
    route = "/test/alerts/few/"
    rule = make_rule(metric="response_time_p95", scope=route, threshold=1.0, min_samples=20)

    _, second = _twice(rule, lambda: definitions.HTTP_DURATION.labels(route, "GET").observe(5))

    assert second.value is None
    assert "1 requests in the last 60 s, fewer than the 20 needed" in second.detail


def test_error_rate_is_the_share_of_5xx_answers_of_the_routes_in_scope():
    route = "/test/alerts/errors/"
    rule = make_rule(metric="error_rate", scope=route, threshold=5.0, min_samples=10)

    def requests():
        definitions.HTTP_REQUESTS.labels(route, "GET", "5xx").inc(3)
        definitions.HTTP_REQUESTS.labels(route, "GET", "2xx").inc(6)
        definitions.HTTP_REQUESTS.labels(route, "POST", "4xx").inc(1)
        definitions.HTTP_REQUESTS.labels("/test/other/", "GET", "5xx").inc(100)  # not in scope

    _, second = _twice(rule, requests)

    assert second.value == pytest.approx(30.0)
    assert "3 of 10 requests answered 5xx" in second.detail


def test_cache_hit_rate_counts_the_cache_lookups_of_the_window():
    rule = make_rule(
        metric="cache_hit_rate", scope="l1", comparison="<", threshold=50, min_samples=4
    )
    cache.set("alerts:present", 1)

    def lookups():
        for _ in range(3):
            assert cache.get("alerts:present") == 1
        assert cache.get("alerts:absent") is None

    _, second = _twice(rule, lookups)

    assert second.value == pytest.approx(75.0)
    assert "of 4 lookups hit" in second.detail


def test_pool_exhaustions_count_what_the_pool_counter_gained_in_the_window():
    rule = make_rule(metric="pool_exhaustions", scope="hwa_http", threshold=0)

    _, second = _twice(rule, lambda: definitions.POOL_EXHAUSTIONS.labels("hwa_http").inc(2))

    assert second.value == 2
    assert "(hwa_http 2)" in second.detail


def test_a_counter_reset_between_samples_counts_from_zero():
    rule = make_rule(metric="pool_exhaustions", scope="hwa_http", threshold=0)
    now = timezone.now()
    # The previous sample saw more than there is now: the counters restarted (a new server).
    rule.window_samples = [[(now - timedelta(seconds=60)).timestamp(), {"hwa_http": 1e9}]]

    measured = measure(rule, Context(now))

    current = monitoring.metrics.value("resync_pool_exhaustions_total", pool="hwa_http")
    assert measured.value == current


# --- instantaneous measures ---------------------------------------------------------------------


def test_pool_waiting_reads_the_waiting_callers_of_the_pool():
    measured = measure(
        make_rule(metric="pool_waiting", scope="database", threshold=5), Context(timezone.now())
    )
    if POSTGRESQL:
        assert measured.value == 0
    else:  # SQLite has no pool: no data rather than a made-up zero
        assert measured.value is None


def test_an_open_hwa_breaker_is_counted(hwa_connection):
    rule = make_rule(metric="hwa_breaker_open", threshold=0)
    assert measure(rule, Context(timezone.now())).value == 0

    client = hwa_client()
    for _ in range(client.breaker.snapshot().threshold):
        client.breaker.record_failure("HWA down (test)")

    assert measure(rule, Context(timezone.now())).value == 1


def _connection(**values) -> HwaConnection:
    return HwaConnection.objects.create(base_url="http://127.0.0.1:9/", username="resync", **values)


def test_sync_failures_count_the_failed_runs_in_a_row_with_their_repeats():
    _connection()
    now = timezone.now()
    SyncRun.objects.create(status="ok", started_at=now - timedelta(minutes=9), finished_at=now)
    SyncRun.objects.create(
        status="failed", started_at=now - timedelta(minutes=8), finished_at=now, repeats=2
    )
    SyncRun.objects.create(status="skipped", started_at=now - timedelta(minutes=7))
    # Still marked running, but its process never beat the heartbeat: killed mid-run.
    SyncRun.objects.create(status="running", started_at=now - timedelta(minutes=6), host="gone:1")

    measured = measure(make_rule(metric="sync_failures", threshold=3), Context(now))

    assert measured.value == 4
    assert measured.detail == "4 plan syncs in a row failed"


def test_sync_age_is_the_time_since_the_last_successful_sync():
    _connection()
    now = timezone.now()
    finished = now - timedelta(seconds=700)
    SyncRun.objects.create(status="ok", started_at=finished, finished_at=finished)
    freshness_reset()

    measured = measure(make_rule(metric="sync_age", threshold=600), Context(now))

    assert measured.value == pytest.approx(700, abs=1)


def test_sync_age_without_any_success_counts_from_the_connections_set_up():
    _connection(created_at=timezone.now() - timedelta(seconds=1000))
    freshness_reset()

    measured = measure(make_rule(metric="sync_age", threshold=600), Context(timezone.now()))

    assert measured.value == pytest.approx(1000, abs=1)
    assert "no successful plan sync" in measured.detail


def test_no_sync_is_expected_without_an_enabled_connection():
    _connection(enabled=False)
    SyncRun.objects.create(status="failed", finished_at=timezone.now())

    for metric in ("sync_failures", "sync_age"):
        measured = measure(
            make_rule(name=metric, metric=metric, threshold=1), Context(timezone.now())
        )
        assert (measured.value, measured.detail) == (0, NOTHING_EXPECTED)


def test_jobs_in_error_counts_the_jobs_whose_status_is_error():
    JobFactory(internal_state="ABEND")
    JobFactory(internal_state="FAIL")
    JobFactory(internal_state="SUCC")

    measured = measure(make_rule(metric="jobs_in_error"), Context(timezone.now()))

    assert measured.value == 2


HAS_SECURITY_EVENTS = hasattr(monitoring.selectors, "security_event_count")


@pytest.mark.skipif(HAS_SECURITY_EVENTS, reason="security events are recorded in this version")
def test_security_events_say_clearly_when_they_cannot_be_counted():
    rule = make_rule(metric="security_events", threshold=50)
    with pytest.raises(MeasureUnavailable) as raised:
        measure(rule, Context(timezone.now()))
    assert raised.value.detail == SECURITY_EVENTS_UNAVAILABLE


@pytest.mark.skipif(not HAS_SECURITY_EVENTS, reason="security events are not in this version")
def test_security_events_count_those_of_the_window():
    from apps.monitoring.models import SecurityEvent

    now = timezone.now()
    for minutes, count in ((1, 7), (2, 5), (30, 100)):  # the last is outside the window
        seen = now - timedelta(minutes=minutes)
        SecurityEvent.objects.create(
            kind="xss",
            severity=2,
            ip=f"10.0.0.{minutes}",
            minute=seen,
            first_seen=seen,
            last_seen=seen,
            count=count,
        )

    measured = measure(
        make_rule(metric="security_events", threshold=50, window_s=300), Context(now)
    )

    assert measured.value == 12
