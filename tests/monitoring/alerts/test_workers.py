"""Several evaluators at once (threads with their own PostgreSQL connections): a rule is
evaluated by one at a time, and its alert opens, resolves and is notified once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from apps.core.models import Job
from apps.monitoring.alerts import measures
from apps.monitoring.alerts.models import Alert, AlertRule, Notification, WebhookChannel
from apps.monitoring.alerts.services import PassSummary, alerts_evaluate
from tests.factories import JobFactory
from tests.monitoring.alerts.conftest import SECRET, make_rule

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
    pytest.mark.django_db(transaction=True),  # each worker commits on its own connection
]
WORKERS = 2
PASSES = 15


def _race(work: Callable[[], PassSummary]) -> list[PassSummary]:
    """Run `work` PASSES times in each of WORKERS threads, started together."""
    start = threading.Barrier(WORKERS)
    summaries: list[PassSummary] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            for _ in range(PASSES):
                summaries.append(work())
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    return summaries


@pytest.fixture
def rule_and_channel(receiver):
    AlertRule.objects.all().delete()
    WebhookChannel.objects.create(name="ops-hook", url=receiver.url, secret=SECRET)
    return make_rule()


def test_two_workers_never_open_resolve_or_notify_one_alert_twice(receiver, rule_and_channel):
    JobFactory(internal_state="ABEND")

    # Interval 0: the rule is due again at once, so the workers race for every evaluation.
    opening = _race(lambda: alerts_evaluate(interval_s=0))
    Job.objects.update(internal_state="SUCC")
    resolving = _race(lambda: alerts_evaluate(interval_s=0))

    assert [s.errors for s in opening + resolving if s.errors] == []
    assert sum(s.evaluated for s in opening) >= PASSES  # both did work
    assert sum(s.opened for s in opening) == 1
    assert sum(s.resolved for s in resolving) == 1
    assert Alert.objects.count() == 1
    assert receiver.events() == ["open", "resolve"]
    assert Notification.objects.filter(status="sent").count() == 2


def test_at_the_same_instant_only_one_worker_evaluates_a_rule(receiver, rule_and_channel):
    now = timezone.now()
    start = threading.Barrier(WORKERS)
    evaluated: list[int] = []

    def worker() -> None:
        try:
            start.wait()
            evaluated.append(alerts_evaluate(now=now, interval_s=60).evaluated)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(evaluated) == [0, 1]


def _overlapping(now, monkeypatch) -> list[PassSummary]:
    """Two passes whose evaluations of the rule overlap (a pass slower than the interval):
    the first is still measuring when the second claims the rule and measures too."""
    first_measuring = threading.Event()
    both_measured = threading.Barrier(2, timeout=10)

    def slow(rule, context):
        measured = measures.jobs_in_error(rule, context)
        first_measuring.set()
        both_measured.wait()
        return measured

    monkeypatch.setitem(measures.MEASURES, "jobs_in_error", slow)
    summaries: list[PassSummary] = []

    def evaluate(at) -> None:
        try:
            summaries.append(alerts_evaluate(now=at, interval_s=0))
        finally:
            connections.close_all()

    first = threading.Thread(target=evaluate, args=(now,))
    first.start()
    assert first_measuring.wait(10)
    second = threading.Thread(target=evaluate, args=(now + timedelta(seconds=1),))
    second.start()
    first.join(30)
    second.join(30)
    return summaries


def test_evaluations_that_overlap_still_open_and_resolve_once(
    receiver, rule_and_channel, monkeypatch
):
    JobFactory(internal_state="ABEND")
    now = timezone.now()

    opening = _overlapping(now, monkeypatch)
    Job.objects.update(internal_state="SUCC")
    resolving = _overlapping(now + timedelta(seconds=10), monkeypatch)

    assert [s.evaluated for s in opening + resolving] == [1, 1, 1, 1]
    assert [s.errors for s in opening + resolving if s.errors] == []
    assert sum(s.opened for s in opening) == 1
    assert sum(s.resolved for s in resolving) == 1
    assert Alert.objects.count() == 1
    assert receiver.events() == ["open", "resolve"]
