"""Recording security events: counted in memory, then one upserted row per address, kind and
minute whose count the database adds to; pruning them past their retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.monitoring import recorder as recording
from apps.monitoring.models import SecurityEvent
from apps.monitoring.services import (
    UPSERT_ROWS,
    recorder,
    security_event_record,
    security_events_flush,
    security_events_prune,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Kind, Severity = SecurityEvent.Kind, SecurityEvent.Severity
IP = "203.0.113.7"


def _record(**overrides) -> None:
    fields = {"kind": Kind.XSS, "severity": Severity.HIGH, "ip": IP, "path": "/api/v1/jobs/"}
    security_event_record(**{**fields, **overrides})


def test_recording_writes_nothing_until_the_flush(frozen_clock):
    with CaptureQueriesContext(connection) as queries:
        for _ in range(100):
            _record()

    assert len(queries) == 0
    assert SecurityEvent.objects.count() == 0
    assert security_events_flush() == 1
    event = SecurityEvent.objects.get()
    assert (event.kind, event.ip, event.count) == (Kind.XSS, IP, 100)
    assert event.minute == frozen_clock.replace(second=0)
    assert event.first_seen == event.last_seen == frozen_clock


def test_flushes_add_to_the_row_of_the_same_minute(frozen_clock, monkeypatch):
    viewer = UserFactory(username="alice")
    _record(severity=Severity.MEDIUM, pattern="first", detail="the first sample")
    security_events_flush()
    later = frozen_clock + timedelta(seconds=20)
    monkeypatch.setattr(recording, "clock", lambda: later)
    _record(severity=Severity.HIGH, pattern="second", user=viewer, count=4)
    security_events_flush()

    event = SecurityEvent.objects.get()
    assert event.count == 5
    assert event.severity == Severity.HIGH  # the highest of the minute
    assert (event.first_seen, event.last_seen) == (frozen_clock, later)
    assert (event.pattern, event.detail) == ("first", "the first sample")  # the first sample
    assert (event.user, event.username) == (viewer, "alice")  # the first user seen


def test_a_new_minute_address_or_kind_is_a_new_row(frozen_clock, monkeypatch):
    _record()
    _record(ip="198.51.100.1")
    _record(kind=Kind.SQL_INJECTION)
    monkeypatch.setattr(recording, "clock", lambda: frozen_clock + timedelta(minutes=1))
    _record()
    security_events_flush()

    assert SecurityEvent.objects.count() == 4
    assert set(SecurityEvent.objects.values_list("count", flat=True)) == {1}


def test_many_buckets_are_written_in_several_statements(frozen_clock):
    for n in range(UPSERT_ROWS * 2 + 1):
        _record(ip=f"10.0.{n // 250}.{n % 250}")

    with CaptureQueriesContext(connection) as queries:
        security_events_flush()

    inserts = [q for q in queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 3
    assert SecurityEvent.objects.count() == UPSERT_ROWS * 2 + 1


def test_text_is_stored_escaped_and_cut_to_its_column(frozen_clock):
    _record(path="/api/v1/jobs/\x00/" + "x" * 1000, detail="d" * 5000, pattern="p\nq")
    security_events_flush()

    event = SecurityEvent.objects.get()
    assert event.path.startswith("/api/v1/jobs/\\x00/xxx")
    assert len(event.path) == 512
    assert len(event.detail) == 1000
    assert event.pattern == "p\\x0aq"


def test_anonymous_and_unknown_callers_have_no_user_or_address(frozen_clock):
    from django.contrib.auth.models import AnonymousUser

    _record(ip="", user=AnonymousUser())
    security_events_flush()

    event = SecurityEvent.objects.get()
    assert (event.ip, event.user, event.username) == ("", None, "")


def test_an_unknown_kind_or_severity_is_a_programming_error():
    with pytest.raises(ValueError, match="not a valid"):
        _record(kind="sqli")
    with pytest.raises(ValueError, match="not a valid"):
        _record(severity=7)
    assert recorder.pending() == []


def test_a_failed_write_keeps_the_counts_for_the_next_flush(frozen_clock, monkeypatch):
    _record(count=3)
    real_write = recorder._write

    def failing(buckets):
        raise RuntimeError("database down")

    monkeypatch.setattr(recorder, "_write", failing)
    with pytest.raises(RuntimeError):
        security_events_flush()
    _record(count=2)
    monkeypatch.setattr(recorder, "_write", real_write)
    security_events_flush()

    assert SecurityEvent.objects.get().count == 5


def test_pruning_deletes_events_last_seen_before_the_cutoff(frozen_clock):
    old, recent = frozen_clock - timedelta(days=31), frozen_clock - timedelta(days=29)
    for at in (old, recent):
        SecurityEvent.objects.create(
            kind=Kind.XSS, severity=Severity.HIGH, ip=IP, minute=at, first_seen=at, last_seen=at
        )
    cutoff = frozen_clock - timedelta(days=30)

    assert security_events_prune(older_than=cutoff, dry_run=True).count == 1
    assert SecurityEvent.objects.count() == 2
    deleted = security_events_prune(older_than=cutoff)

    assert (deleted.count, deleted.complete) == (1, True)
    assert list(SecurityEvent.objects.values_list("last_seen", flat=True)) == [recent]
