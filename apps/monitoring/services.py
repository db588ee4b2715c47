"""Monitoring writes: audit events and security events, and pruning both past their retention."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from apps.core.bulk import Deleted, delete_in_batches
from apps.core.middleware import current_request_id
from apps.monitoring import recorder as recording
from apps.monitoring.detection import printable
from apps.monitoring.models import AuditEvent, SecurityEvent
from apps.monitoring.recorder import Bucket, SecurityEventRecorder, minute_of
from apps.security.client_ip import current_client_ip

_TARGET_MAX = AuditEvent._meta.get_field("target").max_length


def audit_record(
    *,
    actor: Any,
    source: str,
    action: str,
    target: str,
    before: dict | None = None,
    after: dict | None = None,
    outcome: str = "ok",
    detail: str = "",
    ip: str | None = None,
) -> AuditEvent:
    """Record who did what to which target, with the values before and after.

    `actor` is a user, or None for the system; commands pass the user they act as. `ip`
    defaults to the client address of the request being served (none outside requests).
    """
    user = actor if getattr(actor, "pk", None) else None
    name = getattr(actor, "get_username", lambda: "")() or source
    request_id = current_request_id()
    return AuditEvent.objects.create(
        actor=user,
        actor_name=name,
        source=source,
        action=action,
        target=target[:_TARGET_MAX],  # login targets carry whatever username was typed
        before=before,
        after=after,
        outcome=outcome,
        detail=detail,
        request_id="" if request_id == "-" else request_id,
        ip=(ip if ip is not None else current_client_ip()) or None,
    )


def changed_fields(before: dict, after: dict) -> dict[str, tuple[Any, Any]]:
    """The fields whose value differs, as {field: (before, after)}."""
    return {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}


AUDIT_PRUNED = (
    "{count} audit events recorded before {older_than:%Y-%m-%d %H:%M} UTC deleted (retention)"
)


def audit_events_prune(
    *,
    older_than: datetime,
    dry_run: bool = False,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    deadline: float | None = None,
) -> Deleted:
    """Delete audit events recorded before `older_than`, in bounded batches.

    The one place audit rows are deleted, and it leaves a trace: an "audit.prune" event
    saying how many went and up to when. (When audit rows are chained by hashes, this is
    where the chain's new first row gets anchored.)
    """
    old = AuditEvent.objects.filter(at__lt=older_than)
    if dry_run:
        return Deleted(old.count(), True)
    deleted = delete_in_batches(old, batch_size=batch_size, progress=progress, deadline=deadline)
    if deleted.count:
        audit_record(
            actor=None,
            source=AuditEvent.Source.SYSTEM,
            action="audit.prune",
            target="audit",
            after={"deleted": deleted.count, "older_than": older_than.isoformat()},
            detail=AUDIT_PRUNED.format(count=deleted.count, older_than=older_than),
        )
    return deleted


# --- Security events (README: Security events) -----------------------------------------

_SAMPLE_MAX = {
    name: SecurityEvent._meta.get_field(name).max_length
    for name in ("path", "pattern", "request_id", "username")
}
DETAIL_MAX = 1000
# Rows per INSERT: 13 parameters each stays under SQLite's oldest limit of 999 per statement.
UPSERT_ROWS = 50
_UPSERT_COLUMNS = (
    "kind",
    "severity",
    "ip",
    "minute",
    "first_seen",
    "last_seen",
    "count",
    "path",
    "pattern",
    "request_id",
    "detail",
    "user",
    "username",
)


def security_event_record(
    *,
    kind: str,
    severity: int,
    ip: str,
    path: str = "",
    user: Any = None,
    pattern: str = "",
    request_id: str = "",
    detail: str = "",
    count: int = 1,
) -> None:
    """Count `count` security events of `kind` from `ip` in the current minute.

    Only a counter in this process's memory: the row (one per address, kind and minute) is
    written within about a second by the recorder's thread (apps.monitoring.recorder), so
    this costs a request no database round trip. Text is stored with control characters
    escaped and cut to its column; the first event of the minute is the row's sample.
    """
    kind = SecurityEvent.Kind(kind).value
    user = user if getattr(user, "pk", None) and getattr(user, "is_authenticated", False) else None
    now = recording.clock()
    recorder.add(
        Bucket(
            kind=kind,
            ip=ip or "",
            minute=minute_of(now),
            severity=int(SecurityEvent.Severity(severity)),
            first_seen=now,
            last_seen=now,
            count=count,
            path=printable(path[: _SAMPLE_MAX["path"]])[: _SAMPLE_MAX["path"]],
            pattern=printable(pattern[: _SAMPLE_MAX["pattern"]])[: _SAMPLE_MAX["pattern"]],
            request_id=printable(request_id)[: _SAMPLE_MAX["request_id"]],
            detail=printable(detail[:DETAIL_MAX])[:DETAIL_MAX],
            user_id=user.pk if user else None,
            username=user.get_username()[: _SAMPLE_MAX["username"]] if user else "",
        )
    )


def security_events_flush() -> int:
    """Write the counted security events now (the recorder's thread does it every second)."""
    return recorder.flush()


@transaction.atomic
def security_events_write(buckets: Sequence[Bucket]) -> None:
    """Add each bucket's count to its (address, kind, minute) row, creating missing rows.

    One upsert (INSERT ... ON CONFLICT DO UPDATE, PostgreSQL and SQLite alike) per
    UPSERT_ROWS buckets: the database adds the counts, so processes writing the same row
    at once never lose each other's. Callers pass buckets sorted by key, so two processes
    lock rows in the same order and cannot deadlock.
    """
    fields = [SecurityEvent._meta.get_field(name) for name in _UPSERT_COLUMNS]
    with connection.cursor() as cursor:
        for start in range(0, len(buckets), UPSERT_ROWS):
            chunk = buckets[start : start + UPSERT_ROWS]
            params = [
                field.get_db_prep_save(getattr(bucket, field.attname), connection)
                for bucket in chunk
                for field in fields
            ]
            cursor.execute(_upsert_sql(fields, len(chunk)), params)


def _upsert_sql(fields: list, rows: int) -> str:
    quote = connection.ops.quote_name
    table = quote(SecurityEvent._meta.db_table)
    column = {field.attname: quote(field.column) for field in fields}
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"

    def later(name: str, op: str) -> str:  # the new value if it is later (op ">") or earlier
        new, old = f"EXCLUDED.{column[name]}", f"{table}.{column[name]}"
        return f"{column[name]} = CASE WHEN {new} {op} {old} THEN {new} ELSE {old} END"

    user, username = column["user_id"], column["username"]
    # Only quoted names of the model's own columns go into the text; values are parameters.
    insert = f"INSERT INTO {table} ({', '.join(column.values())})"
    return (  # quoted model identifiers only; every value is a %s parameter
        f"{insert} VALUES {', '.join([row] * rows)} "  # nosec B608
        f"ON CONFLICT ({column['ip']}, {column['kind']}, {column['minute']}) DO UPDATE SET "
        f"{column['count']} = {table}.{column['count']} + EXCLUDED.{column['count']}, "
        f"{later('severity', '>')}, {later('last_seen', '>')}, {later('first_seen', '<')}, "
        f"{username} = CASE WHEN {table}.{user} IS NULL THEN EXCLUDED.{username} "
        f"ELSE {table}.{username} END, "
        f"{user} = COALESCE({table}.{user}, EXCLUDED.{user})"
    )


recorder = SecurityEventRecorder(
    write=security_events_write,
    flush_seconds=settings.RESYNC_SECURITY_EVENTS_FLUSH_SECONDS,
    max_addresses=settings.RESYNC_SECURITY_EVENTS_MAX_ADDRESSES,
)


def security_events_prune(
    *,
    older_than: datetime,
    dry_run: bool = False,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    deadline: float | None = None,
) -> Deleted:
    """Delete security events last seen before `older_than`, in bounded batches."""
    old = SecurityEvent.objects.filter(last_seen__lt=older_than)
    if dry_run:
        return Deleted(old.count(), True)
    return delete_in_batches(old, batch_size=batch_size, progress=progress, deadline=deadline)
