"""Reading security events: the count a later alert rule will use."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.monitoring.models import SecurityEvent
from apps.monitoring.selectors import security_event_count, severity_value

pytestmark = pytest.mark.django_db

Kind, Severity = SecurityEvent.Kind, SecurityEvent.Severity


def _event(kind: str, severity: int, count: int, at, ip: str = "203.0.113.9") -> None:
    SecurityEvent.objects.create(
        kind=kind, severity=severity, ip=ip, count=count, minute=at, first_seen=at, last_seen=at
    )


@pytest.fixture
def events(frozen_clock):
    hour_ago = frozen_clock - timedelta(hours=1)
    _event(Kind.SQL_INJECTION, Severity.HIGH, 7, frozen_clock)
    _event(Kind.SCANNER, Severity.MEDIUM, 5, frozen_clock)
    _event(Kind.HTTP_ERROR, Severity.LOW, 100, frozen_clock)
    _event(Kind.SQL_INJECTION, Severity.HIGH, 1000, hour_ago)  # before `since`
    return frozen_clock - timedelta(minutes=5)


def test_it_sums_the_counts_seen_since(events):
    assert security_event_count(since=events) == 112


def test_it_counts_one_kind(events):
    assert security_event_count(since=events, kind=Kind.SQL_INJECTION) == 7
    assert security_event_count(since=events, kind="csp_violation") == 0


@pytest.mark.parametrize(
    ("min_severity", "expected"),
    [(Severity.LOW, 112), ("medium", 12), ("HIGH", 7), (Severity.HIGH, 7)],
)
def test_it_counts_at_or_above_a_severity(events, min_severity, expected):
    assert security_event_count(since=events, min_severity=min_severity) == expected


def test_unknown_severities_and_kinds_are_refused(frozen_clock):
    with pytest.raises(ValueError, match="Unknown severity 'severe'"):
        severity_value("severe")
    with pytest.raises(ValueError, match="not a valid"):
        security_event_count(since=frozen_clock, kind="sqli")
