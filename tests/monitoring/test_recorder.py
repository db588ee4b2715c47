"""The recorder: counts in memory per (address, kind, minute), bounded, written by its thread."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from apps.monitoring.models import SecurityEvent
from apps.monitoring.recorder import OVERFLOW, Bucket, SecurityEventRecorder, minute_of
from apps.monitoring.services import recorder, security_events_write

MINUTE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _bucket(ip: str = "203.0.113.1", kind: str = "xss", at: datetime = MINUTE, **extra) -> Bucket:
    fields = {
        "kind": kind,
        "ip": ip,
        "minute": minute_of(at),
        "severity": 3,
        "first_seen": at,
        "last_seen": at,
        "count": 1,
        "path": "/",
        "pattern": "script-tag",
        "request_id": "r1",
        "detail": "",
        "user_id": None,
        "username": "",
    }
    return Bucket(**{**fields, **extra})


class Sink:
    """A writer that keeps what it is given (the recorder's logic, without a database)."""

    def __init__(self) -> None:
        self.writes: list[list[Bucket]] = []

    def __call__(self, buckets) -> None:
        self.writes.append(list(buckets))


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def memory(sink) -> SecurityEventRecorder:
    made = SecurityEventRecorder(write=sink, max_addresses=3)
    made.autostart = False
    return made


def test_hits_of_one_address_kind_and_minute_are_one_bucket(memory, sink):
    for second in range(10):
        memory.add(_bucket(at=MINUTE + timedelta(seconds=second)))

    assert memory.flush() == 1
    (bucket,) = sink.writes[0]
    assert bucket.count == 10
    assert (bucket.first_seen, bucket.last_seen) == (MINUTE, MINUTE + timedelta(seconds=9))
    assert memory.pending() == []


def test_buckets_are_written_in_key_order(memory, sink):
    for ip in ("203.0.113.3", "203.0.113.1", "203.0.113.2"):
        memory.add(_bucket(ip=ip))
    memory.flush()

    assert [b.ip for b in sink.writes[0]] == ["203.0.113.1", "203.0.113.2", "203.0.113.3"]


def test_addresses_past_the_budget_count_together_under_no_address(memory, sink):
    for n in range(10):
        memory.add(_bucket(ip=f"2001:db8::{n}", user_id=n, username=f"u{n}"))
    memory.flush()

    by_ip = {bucket.ip: bucket for bucket in sink.writes[0]}
    assert len(by_ip) == 4  # three addresses and the overflow
    overflow = by_ip[""]
    assert overflow.count == 7
    assert overflow.detail == OVERFLOW.format(limit=3)
    assert (overflow.user_id, overflow.username) == (None, "")


def test_the_budget_starts_again_each_minute(memory, sink):
    for n in range(3):
        memory.add(_bucket(ip=f"198.51.100.{n}"))
    memory.add(_bucket(ip="198.51.100.9", at=MINUTE + timedelta(minutes=1)))
    memory.flush()

    assert "" not in {bucket.ip for bucket in sink.writes[0]}


def test_the_thread_starts_with_the_first_event_and_writes_on_its_own(memory, sink):
    memory.autostart = True
    memory.flush_seconds = 0.05
    try:
        memory.add(_bucket())
        deadline = time.monotonic() + 10
        while not sink.writes and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        memory.stop()

    assert [b.count for b in sink.writes[0]] == [1]


@pytest.mark.django_db(transaction=True)  # the thread writes on its own connection
def test_the_recorders_thread_writes_to_the_database(monkeypatch, client):
    recorder.stop()  # a thread an earlier test left running would hold another connection
    monkeypatch.setattr(recorder, "autostart", True)
    monkeypatch.setattr(recorder, "flush_seconds", 0.05)
    try:
        response = client.get("/api/v1/no-such-endpoint/", {"q": "<script>"})
        deadline = time.monotonic() + 10
        while SecurityEvent.objects.count() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        recorder.stop()

    assert response.status_code == 404
    assert sorted(SecurityEvent.objects.values_list("kind", flat=True)) == ["http_error", "xss"]


@pytest.mark.django_db
def test_the_writer_adds_up_buckets_of_the_same_row(frozen_clock):
    security_events_write([_bucket(at=frozen_clock, count=2)])
    security_events_write([_bucket(at=frozen_clock, count=3, severity=1)])

    event = SecurityEvent.objects.get()
    assert (event.count, event.severity) == (5, 3)
