"""The audit log's hash chain: a row edited, deleted or inserted behind Resync's back is found.

The tampering is plain SQL, as an attacker with database access would write it; on
PostgreSQL it first switches the append-only trigger off (session_replication_role, which
needs a superuser), as such an attacker could.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from apps.monitoring import chain
from apps.monitoring.chain import chain_verify, row_hash
from apps.monitoring.models import (
    AUDIT_ROWS_NEVER_CHANGE,
    AUDIT_ROWS_ONE_BY_ONE,
    AuditCheckpoint,
    AuditEvent,
)
from apps.monitoring.services import audit_checkpoint_resign, audit_events_prune, audit_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger and advisory lock are PostgreSQL's"
)


def _event(n: int, **fields) -> AuditEvent:
    return audit_record(actor=None, source="system", action="test.event", target=f"t:{n}", **fields)


def _events(count: int) -> list[AuditEvent]:
    return [_event(n) for n in range(count)]


def tamper(sql: str, params: list | tuple = ()) -> None:
    """Run SQL as an attacker with database access: past the trigger on PostgreSQL."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def _insert(row_id: int, prev_hash: str, hash_: str, at: datetime) -> None:
    tamper(
        "INSERT INTO monitoring_auditevent (id, at, actor_name, auth, source, action, target,"
        " outcome, detail, request_id, method, route, prev_hash, hash)"
        " VALUES (%s, %s, 'mallory', '', 'api', 'cover.up', 'x', 'ok', '', '', '', '', %s, %s)",
        [row_id, at, prev_hash, hash_],
    )


# --- appending ---------------------------------------------------------------------------
def test_each_row_carries_the_hash_of_its_content_and_of_the_row_before() -> None:
    first, second = _events(2)

    assert first.prev_hash == ""
    assert second.prev_hash == first.hash
    stored = AuditEvent.objects.values(*chain.CHAINED_FIELDS, "hash").get(pk=second.pk)
    assert row_hash(stored) == stored["hash"] == second.hash


def test_values_read_back_from_the_database_hash_as_they_were_written() -> None:
    event = _event(
        1,
        before={"sizes": (1, 2), "ratio": 0.1 + 0.2, "name": "Zoë ✓"},
        after={"nested": {"b": None, "a": [True]}},
        detail="line\nbreak",
        ip="::ffff:192.0.2.1",
    )

    stored = AuditEvent.objects.values(*chain.CHAINED_FIELDS, "hash").get(pk=event.pk)
    assert row_hash(stored) == event.hash


def test_an_empty_log_and_an_untouched_log_verify() -> None:
    assert chain_verify().intact
    events = _events(5)

    report = chain_verify(batch=2)  # several batches

    assert report.intact
    assert (report.rows, report.first_id, report.head_id) == (5, events[0].pk, events[-1].pk)
    assert report.head_hash == events[-1].hash


def test_a_saved_row_cannot_be_saved_again() -> None:
    event = _event(1)
    event.detail = "changed"

    with pytest.raises(ValueError, match=AUDIT_ROWS_NEVER_CHANGE):
        event.save()


# --- tampering found ---------------------------------------------------------------------
def test_a_row_edited_in_sql_is_found() -> None:
    events = _events(4)

    tamper(
        "UPDATE monitoring_auditevent SET actor_name = 'someone else' WHERE id = %s", [events[1].pk]
    )

    report = chain_verify()
    assert report.problem == chain.EDITED.format(id=events[1].pk)
    assert report.problem_id == events[1].pk
    assert report.rows == 1


def test_a_row_edited_with_a_new_hash_breaks_the_link_to_the_next_row() -> None:
    events = _events(4)
    values = AuditEvent.objects.values(*chain.CHAINED_FIELDS).get(pk=events[1].pk)
    values["outcome"] = "failed"

    tamper(
        "UPDATE monitoring_auditevent SET outcome = 'failed', hash = %s WHERE id = %s",
        [
            row_hash(values),
            events[1].pk,
        ],
    )

    report = chain_verify()
    assert report.problem == chain.DELETED_BETWEEN.format(before=events[1].pk, after=events[2].pk)


def test_a_row_deleted_in_sql_is_found() -> None:
    events = _events(4)

    tamper("DELETE FROM monitoring_auditevent WHERE id = %s", [events[2].pk])

    report = chain_verify()
    assert report.problem == chain.DELETED_BETWEEN.format(before=events[1].pk, after=events[3].pk)


def test_the_oldest_rows_deleted_in_sql_are_found() -> None:
    events = _events(3)

    tamper("DELETE FROM monitoring_auditevent WHERE id = %s", [events[0].pk])

    report = chain_verify()
    assert report.problem == chain.DELETED_BEFORE.format(
        after=events[1].pk, start=chain.START_OF_LOG
    )


@pytest.fixture
def gapped() -> list[AuditEvent]:
    """Three rows with room for an id between the second and the third."""
    first, second = _events(2)
    third = AuditEvent(
        id=second.pk + 10, actor_name="system", source="system", action="a", target="t"
    )
    third.save()
    return [first, second, third]


def test_a_row_inserted_in_sql_is_found(gapped) -> None:
    _insert(gapped[1].pk + 5, "f" * 64, "0" * 64, timezone.now())

    report = chain_verify()
    assert report.problem == chain.INSERTED.format(id=gapped[1].pk + 5)


def test_a_row_inserted_with_a_correct_hash_and_link_is_found(gapped) -> None:
    at = timezone.now()
    values = {
        "at": at,
        "actor_name": "mallory",
        "source": "api",
        "action": "cover.up",
        "target": "x",
        "outcome": "ok",
        "prev_hash": gapped[1].hash,
    }
    _insert(gapped[1].pk + 5, gapped[1].hash, row_hash(values), at)

    report = chain_verify()
    assert report.problem == chain.INSERTED.format(id=gapped[1].pk + 5)


# --- pruning and its checkpoint ----------------------------------------------------------
def _aged(n: int, days: int) -> AuditEvent:
    return AuditEvent.objects.create(
        actor_name="ops",
        source="api",
        action="test.aged",
        target=f"t:{n}",
        at=timezone.now() - timedelta(days=days),
    )


def test_after_pruning_the_chain_starts_at_a_signed_checkpoint_and_verifies() -> None:
    old = [_aged(n, 40) for n in range(5)]
    kept = [_aged(n, 1) for n in range(3)]

    deleted = audit_events_prune(older_than=timezone.now() - timedelta(days=30), batch_size=2)

    assert deleted.count == 5
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.last_id, checkpoint.last_hash) == (old[-1].pk, old[-1].hash)
    report = chain_verify()
    assert report.intact, report.problem
    assert report.checkpoint_id == old[-1].pk
    assert report.first_id == kept[0].pk
    assert report.rows == 4  # the kept rows and the audit.prune event


def test_pruning_keeps_an_old_row_recorded_after_a_newer_one() -> None:
    """Only a prefix of the chain may go: deleting from its middle would break it."""
    first_old = _aged(1, 40)
    newer = _aged(2, 1)
    late_old = _aged(3, 40)  # another host's clock, say

    audit_events_prune(older_than=timezone.now() - timedelta(days=30))

    remaining = set(AuditEvent.objects.values_list("pk", flat=True))
    assert first_old.pk not in remaining
    assert {newer.pk, late_old.pk} <= remaining
    assert chain_verify().intact


def test_rows_appended_after_everything_was_pruned_follow_the_checkpoint() -> None:
    old = [_aged(n, 40) for n in range(3)]

    audit_events_prune(older_than=timezone.now() - timedelta(days=30))
    after = _event(1)

    trace = AuditEvent.objects.get(action="audit.prune")
    assert trace.prev_hash == old[-1].hash
    assert after.prev_hash == trace.hash
    assert chain_verify().intact


def test_rows_deleted_after_the_checkpoint_without_the_retention_job_are_found() -> None:
    [_aged(n, 40) for n in range(2)]
    kept = [_aged(n, 1) for n in range(3)]
    audit_events_prune(older_than=timezone.now() - timedelta(days=30))

    tamper("DELETE FROM monitoring_auditevent WHERE id = %s", [kept[0].pk])

    checkpoint = AuditCheckpoint.objects.get()
    start = chain.START_CHECKPOINT.format(id=checkpoint.last_id)
    assert chain_verify().problem == chain.DELETED_BEFORE.format(after=kept[1].pk, start=start)


def test_a_forged_checkpoint_is_found() -> None:
    old = [_aged(n, 40) for n in range(3)]
    [_aged(n, 1) for n in range(2)]
    audit_events_prune(older_than=timezone.now() - timedelta(days=30))
    # Hide a deleted row behind a checkpoint the attacker made up.
    AuditCheckpoint.objects.update(last_id=old[-1].pk + 1, last_hash="a" * 64)

    report = chain_verify()
    assert report.problem == chain.CHECKPOINT_FORGED.format(id=old[-1].pk + 1)


def test_a_checkpoint_signed_with_an_older_key_verifies_and_can_be_signed_again(settings):
    [_aged(n, 40) for n in range(2)]
    audit_events_prune(older_than=timezone.now() - timedelta(days=30))
    old_key, new_key = settings.RESYNC_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()

    settings.RESYNC_ENCRYPTION_KEYS = [new_key, old_key]
    assert chain_verify().intact
    assert audit_checkpoint_resign()
    settings.RESYNC_ENCRYPTION_KEYS = [new_key]

    assert chain_verify().intact


def test_a_checkpoint_no_configured_key_signed_is_not_signed_again(settings) -> None:
    [_aged(n, 40) for n in range(2)]
    audit_events_prune(older_than=timezone.now() - timedelta(days=30))
    settings.RESYNC_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    assert not audit_checkpoint_resign()
    assert not chain_verify().intact


# --- PostgreSQL: the trigger and concurrent writers --------------------------------------
@needs_postgresql
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE monitoring_auditevent SET detail = 'x' WHERE id = %s",
        "DELETE FROM monitoring_auditevent WHERE id = %s",
    ],
)
def test_the_trigger_refuses_update_and_delete(sql) -> None:
    event = _event(1)

    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])


@needs_postgresql
def test_the_trigger_lets_a_deleted_users_rows_lose_their_link_only() -> None:
    user = UserFactory(username="leaving")
    event = audit_record(actor=user, source="api", action="test.event", target="t")

    get_user_model().objects.filter(pk=user.pk).delete()

    event = AuditEvent.objects.get(pk=event.pk)
    assert (event.actor_id, event.actor_name) == (None, "leaving")
    assert chain_verify().intact


@needs_postgresql
# Real commits, so threads see each other's rows; only the audit tables are flushed after.
@pytest.mark.django_db(transaction=True, available_apps=["apps.monitoring"])
def test_concurrent_appends_from_threads_never_fork_the_chain() -> None:
    threads, per_thread = 8, 25
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                _event(worker * 1000 + n)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=append, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert not errors
    assert AuditEvent.objects.count() == threads * per_thread
    prev_hashes = AuditEvent.objects.values_list("prev_hash", flat=True)
    assert len(set(prev_hashes)) == threads * per_thread  # no two rows follow the same one
    report = chain_verify()
    assert report.intact, report.problem
    assert report.rows == threads * per_thread


def test_times_are_hashed_in_utc_whatever_zone_they_were_given_in() -> None:
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    values = {"at": at, "action": "a"}
    shifted = {"at": at.astimezone(timezone.get_fixed_timezone(120)), "action": "a"}

    assert row_hash(values) == row_hash(shifted)


def test_no_queryset_shortcut_gets_round_the_chain() -> None:
    event = _event(1)
    rows = AuditEvent.objects.all()

    with pytest.raises(ValueError, match=AUDIT_ROWS_NEVER_CHANGE):
        rows.update(detail="changed")
    with pytest.raises(ValueError, match=AUDIT_ROWS_NEVER_CHANGE):
        rows.bulk_update([event], ["detail"])
    with pytest.raises(ValueError, match=re.escape(AUDIT_ROWS_ONE_BY_ONE)):
        AuditEvent.objects.bulk_create([AuditEvent(actor_name="x", action="a", target="t")])
