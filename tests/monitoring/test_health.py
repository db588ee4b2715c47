from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime

import pytest
from django.db import OperationalError
from django_redis.cache import RedisCache
from rest_framework.authentication import SessionAuthentication
from rest_framework.test import APIClient

from apps.cache.backends import TieredCache
from apps.monitoring import health
from apps.monitoring.health import DEGRADED, UNHEALTHY, HealthCheck

pytestmark = pytest.mark.django_db
HEALTH = "/api/v1/health/"
READY = "/api/v1/health/ready/"
LIVE = "/api/v1/health/live/"
EVERY_COMPONENT = {
    "database",
    "cache",
    "migrations",
    "hwa_sync",
    "sync_heartbeat",
    "assistant_model",
}
READY_COMPONENTS = {"database", "cache", "migrations", "sync_heartbeat"}


def _replace_check(monkeypatch, name: str, run, failure: str, **options) -> None:
    monkeypatch.setitem(health.CHECKS, name, HealthCheck(run, failure, **options))


def test_anyone_sees_the_overall_status_only(anon_client):
    response = anon_client.get(HEALTH)
    assert response.status_code == 200
    assert response.json() == {"status": "healthy"}


def test_monitoring_readers_see_each_component_with_its_response_time(auditor_client):
    body = auditor_client.get(HEALTH).json()
    assert body["status"] == "healthy"
    assert set(body["components"]) == EVERY_COMPONENT
    for component in body["components"].values():
        assert component["status"] == "healthy"
        assert component["response_time_ms"] >= 0
        checked_at = datetime.fromisoformat(component["checked_at"])
        assert abs((datetime.now(checked_at.tzinfo) - checked_at).total_seconds()) < 60


def test_others_see_only_the_overall_status_even_with_the_staff_flag(viewer_client):
    from tests.conftest import _client_for
    from tests.factories import UserFactory

    assert viewer_client.get(HEALTH).json() == {"status": "healthy"}
    staff_without_role = _client_for(UserFactory(username="staff", is_staff=True))
    assert staff_without_role.get(HEALTH).json() == {"status": "healthy"}


@pytest.fixture
def dead_redis(monkeypatch):
    """The health check's cache, pointed at a port where no Redis listens."""
    dead = RedisCache(
        "redis://127.0.0.1:1/0",
        {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2}},
    )
    monkeypatch.setattr(health, "cache", dead)


def test_a_failing_cache_degrades_health_and_says_why(auditor_client, monkeypatch):
    def broken() -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    _replace_check(monkeypatch, "cache", broken, DEGRADED)
    response = auditor_client.get(HEALTH)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert "Connection refused" in body["components"]["cache"]["detail"]


def test_the_cache_check_really_round_trips_through_a_dead_redis(dead_redis):
    report = health.health_report()
    assert report["components"]["cache"]["status"] == "degraded"
    assert report["status"] == "degraded"


def test_a_failing_database_makes_health_unhealthy_with_a_503(anon_client, monkeypatch):
    def broken() -> None:
        raise RuntimeError("connection refused")

    _replace_check(monkeypatch, "database", broken, UNHEALTHY)
    response = anon_client.get(HEALTH)
    assert response.status_code == 503
    assert response.json() == {"status": "unhealthy"}


def test_health_answers_when_the_session_user_cannot_be_read(db, monkeypatch, auditor):
    browser = APIClient()
    browser.force_login(auditor)  # a session: reading it needs the database

    def unavailable(self, request):
        raise OperationalError("the database is unavailable (test)")

    monkeypatch.setattr(SessionAuthentication, "authenticate", unavailable)
    response = browser.get(HEALTH)

    assert response.status_code == 200
    assert response.json() == {"status": "healthy"}  # answered as to anyone


def test_a_tiered_cache_whose_redis_is_down_is_degraded_and_says_why(monkeypatch):
    dead = TieredCache(
        "redis://127.0.0.1:1/0",
        {
            "KEY_PREFIX": f"health-{uuid.uuid4().hex}",
            "OPTIONS": {
                "L1_LOCATION": uuid.uuid4().hex,
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
            },
        },
    )
    monkeypatch.setattr(health, "cache", dead)

    first = health.health_report()["components"]["cache"]
    health.health_results_clear()  # check again, now within the back-off
    during_back_off = health.health_report()["components"]["cache"]

    for component in (first, during_back_off):
        assert component["status"] == "degraded"
        assert "Redis unavailable" in component["detail"]
    assert dead.stats()["l2"]["errors"] >= 1  # the cache statistics count it


# --- within a second, whatever hangs -------------------------------------------------------


@pytest.fixture
def hung(monkeypatch):
    """The cache check blocks until the test ends (as a dependency that never answers)."""
    release = threading.Event()
    calls: list[float] = []

    def hangs() -> None:
        calls.append(time.monotonic())
        release.wait(30)

    _replace_check(monkeypatch, "cache", hangs, DEGRADED, timeout=0.3)
    yield calls
    release.set()


def test_a_hanging_check_is_reported_within_its_timeout_not_waited_for(hung, auditor_client):
    response = auditor_client.get(HEALTH)

    # The hung check is still blocked (the fixture releases it only after the test), so the
    # answer did not wait for it: no wall-clock bound, which a loaded machine could break.
    assert len(hung) == 1
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["components"]["cache"]["detail"] == health.NO_ANSWER.format(timeout=0.3)
    assert body["components"]["database"]["status"] == "healthy"  # the others still answer


def test_a_hung_check_holds_one_thread_not_one_per_poll(hung):
    for _ in range(5):
        component = health.health_report()["components"]["cache"]

    assert len(hung) == 1
    assert component["status"] == "degraded"
    assert component["detail"].startswith("no answer within 0.3 s (the check started")


def test_results_are_kept_for_a_second_so_a_flood_costs_one_check(monkeypatch, anon_client):
    calls = []
    _replace_check(monkeypatch, "database", lambda: calls.append(1), UNHEALTHY)
    monkeypatch.setattr(health, "RESULT_TTL_S", 60.0)  # 40 requests may take over 1 s here

    for _ in range(20):
        anon_client.get(HEALTH)
        anon_client.get(READY)
    assert len(calls) == 1

    monkeypatch.setattr(health, "RESULT_TTL_S", 0.0)
    health.health_results_clear()
    health.health_report()
    assert len(calls) == 2


def test_a_migration_not_applied_makes_health_and_readiness_unhealthy(monkeypatch, auditor_client):
    health.health_report()  # reads the migration graph once
    missing = {("core", "9999_from_the_future")}
    monkeypatch.setattr(health, "_expected_migrations", health._expected_migrations | missing)

    for path in (HEALTH, READY):
        health.health_results_clear()
        response = auditor_client.get(path)
        assert response.status_code == 503
        detail = response.json()["components"]["migrations"]["detail"]
        assert "core.9999_from_the_future" in detail


# --- readiness and liveness ------------------------------------------------------------------


def test_readiness_checks_what_serving_needs(auditor_client, anon_client):
    body = auditor_client.get(READY).json()

    assert body["status"] == "healthy"
    assert set(body["components"]) == READY_COMPONENTS
    assert anon_client.get(READY).json() == {"status": "healthy"}


def test_readiness_is_a_503_when_the_database_fails(monkeypatch, anon_client):
    _replace_check(monkeypatch, "database", _raises("refused"), UNHEALTHY, ready=True)

    response = anon_client.get(READY)

    assert response.status_code == 503
    assert response.json() == {"status": "unhealthy"}


def test_a_degraded_instance_is_still_ready(dead_redis, auditor_client):
    response = auditor_client.get(READY)

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["components"]["cache"]["status"] == "degraded"


def test_liveness_answers_without_any_check_or_query(
    monkeypatch, anon_client, django_assert_num_queries
):
    _replace_check(monkeypatch, "database", _raises("down"), UNHEALTHY)

    with django_assert_num_queries(0):
        response = anon_client.get(LIVE)

    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def _raises(message: str):
    def check() -> None:
        raise RuntimeError(message)

    return check


def test_a_request_during_interpreter_exit_is_a_503_not_a_500(auditor_client, monkeypatch):
    # A server stopping its worker shuts the check threads down while a request is in flight.
    class Stopped:
        def submit(self, *args, **kwargs):
            raise RuntimeError("cannot schedule new futures after shutdown")

    health._runner._forget_after_fork()
    monkeypatch.setattr(health._runner, "_executor", Stopped())

    response = auditor_client.get("/api/v1/health/")

    assert response.status_code == 503
    details = {c["detail"] for c in response.json()["components"].values()}
    assert health.SHUTTING_DOWN in details
