"""History retention: prune_history, the service behind it, and the sync loop's pruning."""

from __future__ import annotations

import os
import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.management.commands import sync_plan as sync_plan_command
from apps.core.models import Conversation, JobAction, JobStatusEvent, Message, SyncRun, Workstation
from apps.core.services.retention import history_prune
from apps.monitoring.models import AuditEvent, SecurityEvent
from apps.monitoring.services import AUDIT_PRUNED
from tests.factories import JobFactory, JobStatusEventFactory, UserFactory, WorkstationFactory

pytestmark = pytest.mark.django_db

OLD = timedelta(days=31)  # past the default retention of 30 days
RECENT = timedelta(days=29)


def _ago(delta: timedelta):
    return timezone.now() - delta


def _sync_run(status: str, age: timedelta) -> SyncRun:
    at = _ago(age)
    return SyncRun.objects.create(status=status, started_at=at, finished_at=at, last_finished_at=at)


def _job_action(age: timedelta) -> JobAction:
    return JobAction.objects.create(
        job_hwa_id="J1", job_name="J1", action="rerun", actor_name="ops", outcome="ok", at=_ago(age)
    )


def _audit_event(age: timedelta) -> AuditEvent:
    return AuditEvent.objects.create(
        actor_name="ops", source="api", action="cache.clear", target="cache", at=_ago(age)
    )


def _security_event(age: timedelta) -> SecurityEvent:
    at = _ago(age)
    return SecurityEvent.objects.create(
        kind="xss", severity=3, ip="203.0.113.5", minute=at, first_seen=at, last_seen=at
    )


def _conversation(age: timedelta) -> Conversation:
    at = _ago(age)
    conversation = Conversation.objects.create(
        user=UserFactory(), title="q", created_at=at, updated_at=at
    )
    Message.objects.create(conversation=conversation, role="user", content="q", created_at=at)
    return conversation


@pytest.fixture
def history():
    """Two rows of every kind, one past the retention and one within it."""
    job = JobFactory()
    return {
        "old": [
            JobStatusEventFactory(job=job, at=_ago(OLD)),
            _sync_run("failed", OLD),
            _job_action(OLD),
            _audit_event(OLD),
            WorkstationFactory(name="GONE_LONG_AGO", gone_at=_ago(OLD)),
            _security_event(OLD),
            _conversation(OLD),
        ],
        "recent": [
            JobStatusEventFactory(job=job, at=_ago(RECENT)),
            _sync_run("ok", RECENT),
            _job_action(RECENT),
            _audit_event(RECENT),
            WorkstationFactory(name="GONE_LATELY", gone_at=_ago(RECENT)),
            _security_event(RECENT),
            _conversation(RECENT),
        ],
    }


def _exists(row) -> bool:
    return type(row).objects.filter(pk=row.pk).exists()


def test_it_deletes_only_rows_past_their_retention(history) -> None:
    result = history_prune()

    assert not any(_exists(row) for row in history["old"])
    assert all(_exists(row) for row in history["recent"])
    assert set(result.counts.values()) == {1}
    assert result.complete


def test_pruning_the_audit_log_leaves_a_trace_in_it(history) -> None:
    history_prune()

    trace = AuditEvent.objects.get(action="audit.prune")
    assert trace.after["deleted"] == 1
    cutoff = datetime.fromisoformat(trace.after["older_than"])
    assert trace.detail == AUDIT_PRUNED.format(count=1, older_than=cutoff)
    assert timezone.now() - cutoff >= timedelta(days=30)


def test_a_dry_run_counts_and_deletes_nothing(history) -> None:
    out = StringIO()
    call_command("prune_history", "--dry-run", stdout=out)

    assert all(_exists(row) for row in history["old"])
    assert out.getvalue().startswith("Would prune 1 status events, 1 sync runs,")


def test_the_command_prints_one_summary_line(history) -> None:
    out = StringIO()
    call_command("prune_history", stdout=out, stderr=StringIO())

    assert out.getvalue().splitlines() == [
        "Pruned 1 status events, 1 sync runs, 1 job actions, 1 audit events, "
        "1 gone workstations, 1 security events, 1 assistant conversations past their "
        "retention (30 days)."
    ]


def test_a_conversation_goes_with_its_messages(history) -> None:
    history_prune()

    assert not Message.objects.filter(conversation_id=history["old"][-1].pk).exists()
    assert Message.objects.filter(conversation=history["recent"][-1]).exists()


def test_it_deletes_in_batches_bounded_by_primary_key(db) -> None:
    job = JobFactory()
    JobStatusEventFactory.create_batch(10, job=job, at=_ago(OLD))
    kept = JobStatusEventFactory(job=job, at=_ago(RECENT))
    batches: dict[str, list[int]] = defaultdict(list)

    with CaptureQueriesContext(connection) as queries:
        history_prune(batch_size=3, progress=lambda kind, n: batches[kind].append(n))

    assert batches["status_events"] == [3, 3, 3, 1]
    deletes = [
        q["sql"] for q in queries if q["sql"].startswith("DELETE") and "jobstatusevent" in q["sql"]
    ]
    assert len(deletes) == 4
    assert all("<=" in sql for sql in deletes[:3])  # each bounded by the batch's last id
    assert list(JobStatusEvent.objects.all()) == [kept]


def test_the_latest_successful_run_is_kept_however_old(db) -> None:
    last_ok = _sync_run("ok", OLD)
    _sync_run("failed", OLD - timedelta(days=1))

    history_prune()

    assert list(SyncRun.objects.all()) == [last_ok]


def test_a_folded_run_is_kept_while_its_repeats_are_recent(db) -> None:
    run = _sync_run("ok", OLD)
    SyncRun.objects.filter(pk=run.pk).update(last_finished_at=_ago(RECENT))
    _sync_run("ok", RECENT - timedelta(days=1))  # a later success, so `run` is not the latest

    history_prune()

    assert _exists(run)


def test_a_gone_workstation_something_still_refers_to_is_kept(db) -> None:
    job = JobFactory()
    Workstation.objects.filter(pk=job.workstation_id).update(gone_at=_ago(OLD))

    history_prune()

    assert Workstation.objects.filter(pk=job.workstation_id).exists()


def test_each_kind_can_keep_its_own_number_of_days(history, settings) -> None:
    settings.RESYNC_RETENTION = {
        **settings.RESYNC_RETENTION,
        "audit_events": 365,
        "security_events": 90,
    }

    history_prune()

    assert _exists(history["old"][3])  # the old audit event
    assert _exists(history["old"][5])  # the old security event
    assert not _exists(history["old"][0])


def test_a_deadline_stops_it_early_and_says_so(history) -> None:
    result = history_prune(deadline=time.monotonic())

    assert not result.complete
    assert all(_exists(row) for row in history["old"])


@pytest.mark.django_db(transaction=True)  # the loop closes its connection between runs
def test_the_sync_loop_prunes_old_history(history, hwa_connection, monkeypatch) -> None:
    calls = []

    def prune_then_stop(**kwargs):
        calls.append(kwargs)
        result = history_prune(**kwargs)
        os.kill(os.getpid(), signal.SIGTERM)  # the loop's own handler ends it
        return result

    monkeypatch.setattr(sync_plan_command, "history_prune", prune_then_stop)
    out = StringIO()
    with _signal_handlers_restored():
        call_command("sync_plan", "--loop", "--interval", "0.01", stdout=out, stderr=StringIO())

    assert len(calls) == 1
    assert calls[0]["deadline"] <= time.monotonic() + sync_plan_command.PRUNE_BUDGET_S
    assert not any(_exists(row) for row in history["old"])
    # (the sync itself deleted the old event's job, which HWA does not list)
    assert "1 job actions, 1 audit events, 1 gone workstations, 1 security events" in (
        out.getvalue()
    )


@contextmanager
def _signal_handlers_restored() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
