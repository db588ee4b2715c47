"""The real psycopg pool on PostgreSQL: live rebuild, in-flight safety, exhaustion, stats."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client
from rest_framework.test import APIClient

from apps.core.pools import database
from apps.core.pools.defaults import PRESETS
from apps.core.pools.exhaustion import POOL_EXHAUSTED
from apps.core.selectors.pools import pool_stats

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
