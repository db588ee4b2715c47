from __future__ import annotations

import uuid

import pytest
from django.db import OperationalError
from django_redis.cache import RedisCache
from rest_framework.authentication import SessionAuthentication
from rest_framework.test import APIClient

from apps.cache.backends import TieredCache
from apps.monitoring import selectors

pytestmark = pytest.mark.django_db
HEALTH = "/api/v1/health/"


def test_anyone_sees_the_overall_status_only(anon_client):
    response = anon_client.get(HEALTH)
    assert response.status_code == 200
    assert response.json() == {"status": "healthy"}


def test_monitoring_readers_see_each_component_with_its_response_time(auditor_client):
    body = auditor_client.get(HEALTH).json()
    assert body["status"] == "healthy"
    assert set(body["components"]) == {"database", "cache", "hwa_sync"}
    for component in body["components"].values():
        assert component["status"] == "healthy"
        assert component["response_time_ms"] >= 0


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
    monkeypatch.setattr(selectors, "cache", dead)


def test_a_failing_cache_degrades_health_and_says_why(auditor_client, monkeypatch):
    def broken() -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setitem(selectors.CHECKS, "cache", (broken, selectors.DEGRADED))
    response = auditor_client.get(HEALTH)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert "Connection refused" in body["components"]["cache"]["detail"]


def test_the_cache_check_really_round_trips_through_a_dead_redis(dead_redis):
    report = selectors.health_report()
    assert report["components"]["cache"]["status"] == "degraded"
    assert report["status"] == "degraded"


def test_a_failing_database_makes_health_unhealthy_with_a_503(anon_client, monkeypatch):
    def broken() -> None:
        raise RuntimeError("connection refused")

    monkeypatch.setitem(selectors.CHECKS, "database", (broken, selectors.UNHEALTHY))
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
    monkeypatch.setattr(selectors, "cache", dead)

    first = selectors.health_report()["components"]["cache"]
    during_back_off = selectors.health_report()["components"]["cache"]

    for component in (first, during_back_off):
        assert component["status"] == "degraded"
        assert "Redis unavailable" in component["detail"]
    assert dead.stats()["l2"]["errors"] >= 1  # the cache statistics count it
