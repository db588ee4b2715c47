"""The database breaker on its own: fail fast while open, one prober, close on recovery."""

from __future__ import annotations

import logging
import threading
import time

import psycopg
import pytest

from apps.core.pools import database
from apps.core.pools.outage import DatabaseUnavailable, OutageBreaker

# Generous bound for a background thread that probes every 10 ms (a stuck one never ends).
WAIT_S = 10.0


class FakeDatabase:
    """The probe's target: down until `up` is set; counts probes and recoveries."""

    def __init__(self) -> None:
        self.up = threading.Event()
        self.probes = 0
        self.recoveries = 0
        self.fail_recovery = False

    def probe(self) -> None:
        self.probes += 1
        if not self.up.is_set():
            raise psycopg.OperationalError("connection failed: Connection refused")

    def recover(self) -> None:
        if self.fail_recovery:
            raise RuntimeError("the pool could not be rebuilt")
        self.recoveries += 1


@pytest.fixture
def fake_db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def breaker(fake_db: FakeDatabase):
    breaker = OutageBreaker(probe=fake_db.probe, recover=fake_db.recover, interval=0.01)
    yield breaker
    fake_db.up.set()  # let the prober thread finish


def _wait_until(condition) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "the condition never became true"
        time.sleep(0.01)


def test_it_is_closed_until_a_connection_fails(breaker):
    breaker.check()  # does not raise
    assert breaker.snapshot().open is False


def test_once_tripped_it_refuses_at_once_and_says_why(breaker):
    breaker.trip(psycopg.OperationalError("connection failed: Connection refused\n\tIs it up?"))

    with pytest.raises(DatabaseUnavailable, match="Connection refused") as raised:
        breaker.check()
    assert "Is it up?" not in str(raised.value)  # the first line only
    assert breaker.snapshot().open is True


def test_a_probe_that_gets_through_rebuilds_then_closes(breaker, fake_db):
    breaker.trip(psycopg.OperationalError("down"))
    _wait_until(lambda: fake_db.probes >= 3)
    assert breaker.is_open  # still down: still open

    fake_db.up.set()
    _wait_until(lambda: not breaker.is_open)
    snap = breaker.snapshot()
    assert (fake_db.recoveries, snap.trips, snap.recoveries) == (1, 1, 1)
    breaker.check()


def test_many_failures_at_once_start_one_prober(breaker, fake_db):
    threads = [
        threading.Thread(target=breaker.trip, args=(psycopg.OperationalError(f"down {i}"),))
        for i in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert breaker.snapshot().trips == 1
    fake_db.up.set()
    _wait_until(lambda: not breaker.is_open)
    time.sleep(0.1)  # a second prober, if any, would recover again meanwhile
    assert fake_db.recoveries == 1


def test_a_failed_rebuild_keeps_it_open_and_probing(breaker, fake_db):
    fake_db.fail_recovery = True
    fake_db.up.set()
    breaker.trip(psycopg.OperationalError("down"))
    _wait_until(lambda: fake_db.probes >= 3)
    assert breaker.is_open
    assert "could not be rebuilt" in breaker.snapshot().last_error
    fake_db.fail_recovery = False
    _wait_until(lambda: not breaker.is_open)


def test_it_trips_again_after_a_recovery(breaker, fake_db):
    fake_db.up.set()
    breaker.trip(psycopg.OperationalError("first"))
    _wait_until(lambda: not breaker.is_open)
    fake_db.up.clear()
    breaker.trip(psycopg.OperationalError("second"))
    assert breaker.is_open
    fake_db.up.set()
    _wait_until(lambda: not breaker.is_open)
    assert breaker.snapshot().trips == breaker.snapshot().recoveries == 2


def test_the_log_keeps_one_line_per_outage_not_one_per_refused_request(
    breaker, fake_db, monkeypatch
):
    monkeypatch.setattr(database, "breaker", breaker)
    log_filter = database.OutageLogFilter()

    def request_line(status: int) -> logging.LogRecord:
        record = logging.LogRecord("django.request", logging.ERROR, "", 0, "x", None, None)
        record.status_code = status
        return record

    assert log_filter.filter(request_line(503))  # the database is up: a busy pool, kept
    breaker.trip(psycopg.OperationalError("down"))
    assert not log_filter.filter(request_line(503))
    assert log_filter.filter(request_line(500))
