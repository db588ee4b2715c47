"""The real psycopg pool on PostgreSQL: live rebuild, in-flight safety, exhaustion, stats,
and outages (the breaker, the request deadline, the rebuild after recovery)."""

from __future__ import annotations

import copy
import threading
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from rest_framework.test import APIClient

from apps.core.pools import database
from apps.core.pools.defaults import PRESETS, default_values
from apps.core.pools.outage import OutageBreaker
from apps.core.pools.unavailable import DATABASE_DOWN, POOL_EXHAUSTED
from apps.core.selectors.pools import pool_stats
from tests.bench.harness import free_port

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (pool)"),
]

SMALL = {
    **PRESETS["current"],
    "min_size": 0,
    "max_size": 1,
    "connection_timeout": 1,
    "max_waiting": 0,
}


def _in_thread(call) -> object:
    result: dict = {}

    def run() -> None:
        try:
            result["value"] = call()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the request hung"
    return result["value"]


def test_a_change_rebuilds_the_pool_and_in_flight_work_finishes_on_the_old_one():
    with connection.cursor() as cursor:  # a connection checked out before the change
        cursor.execute("SELECT 1")
    old = connection.connection._pool
    database.apply({**PRESETS["recommended"], "max_waiting": 0}, version=101)
    new = connection.pool
    assert new is not old
    assert isinstance(new, database.TimedConnectionPool)
    assert new.max_size == 30
    assert new.timeout == 20.0
    with connection.cursor() as cursor:  # the in-flight connection still works
        cursor.execute("SELECT 2")
        assert cursor.fetchone() == (2,)
    connection.close()  # returned to the pool it came from
    deadline = time.monotonic() + 5
    while not old.closed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert old.closed
    with connection.cursor() as cursor:  # the next connection comes from the new pool
        cursor.execute("SELECT 3")
    assert connection.connection._pool is new


def test_stats_move_with_the_load():
    database.apply({**PRESETS["current"], "max_waiting": 0}, version=102)
    before = pool_stats()["pools"]["database"]
    for _ in range(5):
        _in_thread(lambda: connection.cursor().execute("SELECT 1"))
    after = pool_stats()["pools"]["database"]
    assert after["acquisitions"] >= before["acquisitions"] + 5
    assert after["wait"]["samples"] >= 5
    assert after["wait"]["p50_ms"] is not None
    assert after["config"]["max_size"] == 20


def test_an_exhausted_pool_answers_503_with_retry_after(admin_user):
    api = APIClient()
    api.force_authenticate(admin_user)
    browser = Client()
    browser.force_login(admin_user)
    database.apply(SMALL, version=103)
    connection.close()
    pool = connection.pool
    held = pool.getconn()
    try:
        api_response = _in_thread(lambda: api.get("/api/v1/jobs/"))
        admin_response = _in_thread(lambda: browser.get("/admin/"))
    finally:
        pool.putconn(held)
    assert api_response.status_code == 503
    assert api_response["Retry-After"] == "1"
    assert api_response["Content-Type"] == "application/problem+json"
    assert api_response.json()["detail"] == POOL_EXHAUSTED
    assert admin_response.status_code == 503
    assert admin_response["Retry-After"] == "1"
    assert pool_stats()["pools"]["database"]["exhaustions"] >= 2
    api_ok = _in_thread(lambda: api.get("/api/v1/jobs/"))
    assert api_ok.status_code == 200


def test_hits_and_misses_tell_reused_from_new_connections():
    database.apply({**PRESETS["current"], "min_size": 0, "max_waiting": 0}, version=104)
    before = pool_stats()["pools"]["database"]
    for _ in range(4):  # one thread at a time: the first may be new, the rest reuse it
        _in_thread(lambda: connection.cursor().execute("SELECT 1"))
    after = pool_stats()["pools"]["database"]
    assert after["hits"] - before["hits"] >= 3
    assert after["misses"] + after["hits"] >= before["misses"] + before["hits"] + 4


def test_idle_connections_are_checked_every_health_check_interval():
    database.apply(
        {**PRESETS["current"], "min_size": 1, "health_check_interval": 1, "max_waiting": 0},
        version=105,
    )
    start = database.state.checker.checks
    deadline = time.monotonic() + 10
    while database.state.checker.checks < start + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert database.state.checker.checks >= start + 2


# --- outages ----------------------------------------------------------------------------
# Bounds the outage issue sets for a request and for health; observed figures are ~100x
# lower, so a loaded machine does not make these flaky.
FAST_503_S = 2.0
HEALTH_S = 1.0


class _Down:
    """A probe target that stays down until released (the real _recover rebuilds the pool)."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def probe(self) -> None:
        if not self.released.is_set():
            raise OSError("connection refused (test)")


@pytest.fixture
def outage(monkeypatch):
    """This process's breaker, replaced by one the test trips and releases."""
    down = _Down()
    breaker = OutageBreaker(probe=down.probe, recover=database._recover, interval=0.05)
    monkeypatch.setattr(database, "breaker", breaker)
    yield breaker, down
    down.released.set()
    deadline = time.monotonic() + 10
    while breaker.is_open and time.monotonic() < deadline:
        time.sleep(0.05)
    breaker.reset()


def _timed(call) -> tuple[object, float]:
    started = time.monotonic()
    value = _in_thread(call)
    return value, time.monotonic() - started


def test_while_the_database_is_down_requests_fail_at_once_with_a_503(admin_user, outage):
    breaker, _down = outage
    api = APIClient()
    api.force_authenticate(admin_user)
    breaker.trip(OSError("connection refused (test)"))

    response, seconds = _timed(lambda: api.get("/api/v1/jobs/?q=uncached"))
    health, health_seconds = _timed(lambda: api.get("/api/v1/health/"))

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["detail"] == DATABASE_DOWN
    assert seconds < FAST_503_S
    assert health.status_code == 503
    assert health.json()["components"]["database"]["status"] == "unhealthy"
    assert "connection refused (test)" in health.json()["components"]["database"]["detail"]
    assert health_seconds < HEALTH_S
    assert pool_stats()["pools"]["database"]["outage"]["database_down"] is True


def test_when_a_probe_gets_through_the_pool_is_rebuilt_and_serves(admin_user, outage):
    breaker, down = outage
    api = APIClient()
    api.force_authenticate(admin_user)
    connection.close()
    before = connection.pool
    breaker.trip(OSError("connection refused (test)"))
    assert _in_thread(lambda: api.get("/api/v1/jobs/")).status_code == 503

    down.released.set()
    deadline = time.monotonic() + 10
    while breaker.is_open:
        assert time.monotonic() < deadline, "the breaker never closed"
        time.sleep(0.05)

    assert connection.pool is not before
    assert connection.pool.name.endswith("recovered")
    assert _in_thread(lambda: api.get("/api/v1/jobs/")).status_code == 200


def test_a_failed_connection_attempt_opens_the_breaker(outage):
    breaker, _down = outage
    dead = f"host=127.0.0.1 port={free_port()} user=postgres dbname=postgres"
    with pytest.raises(psycopg.OperationalError):
        database._ObservedConnection.connect(dead, connect_timeout=2)
    assert breaker.is_open
    assert "Connection refused" in breaker.snapshot().last_error


def test_a_request_waits_for_a_connection_at_most_the_request_deadline(admin_user, settings):
    settings.DB_REQUEST_TIMEOUT = 0.3
    api = APIClient()
    api.force_authenticate(admin_user)
    database.apply({**SMALL, "connection_timeout": 30}, version=106)  # background work: 30 s
    connection.close()
    pool = connection.pool
    held = pool.getconn()
    try:
        response, seconds = _timed(lambda: api.get("/api/v1/jobs/"))
        health, health_seconds = _timed(lambda: api.get("/api/v1/health/"))
    finally:
        pool.putconn(held)
    assert response.status_code == 503
    assert response.json()["detail"] == POOL_EXHAUSTED
    assert seconds < FAST_503_S
    # The pool is busy, the database is up: health says degraded, not unhealthy.
    assert health.status_code == 200
    assert health.json()["components"]["database"]["status"] == "degraded"
    assert health_seconds < HEALTH_S


def test_a_live_change_leaves_the_start_up_settings_as_they_were():
    # Django's connection holds settings.DATABASES's own dict: a write there would be read
    # back by checks and defaults as if the environment had said it.
    assert connection.settings_dict is settings.DATABASES["default"]
    at_start = copy.deepcopy(settings.DATABASES)
    startup_defaults = default_values("database")

    database.apply({**PRESETS["recommended"], "max_waiting": 0}, version=103)

    assert connection.pool.max_size == 30
    assert at_start == settings.DATABASES
    assert default_values("database") == startup_defaults


def test_a_pool_django_rebuilt_is_replaced_with_the_live_values():
    database.apply({**PRESETS["recommended"], "max_waiting": 0}, version=104)
    connection.close()
    connection.close_pool()  # as Django does on a test's settings change

    database.ensure_pool()  # the next request

    assert isinstance(connection.pool, database.TimedConnectionPool)
    assert connection.pool.max_size == 30
