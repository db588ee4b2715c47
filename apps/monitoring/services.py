"""Monitoring writes: audit events and requests, security events, and pruning both past
their retention.

Every audit row goes through `AuditEvent.save()`, which links it into the hash chain
(apps.monitoring.chain); rows are never updated, and deleted only by `audit_events_prune`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from apps.core.bulk import Deleted, delete_in_batches
from apps.core.middleware import NO_REQUEST_ID, current_request_id
from apps.monitoring import recorder as recording
from apps.monitoring.chain import chain_lock, checkpoint_signature, checkpoint_valid
from apps.monitoring.detection import printable
from apps.monitoring.models import AuditCheckpoint, AuditEvent, SecurityEvent
from apps.monitoring.recorder import Bucket, SecurityEventRecorder, minute_of
from apps.security.client_ip import current_client_ip

_TARGET_MAX = AuditEvent._meta.get_field("target").max_length
_ROUTE_MAX = AuditEvent._meta.get_field("route").max_length
# The transaction-local setting the PostgreSQL trigger lets DELETEs through with.
PRUNE_SETTING = "resync.audit_prune"


def _current_request_id() -> str:
    request_id = current_request_id()
    return "" if request_id == NO_REQUEST_ID else request_id


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
    The row carries the current request id, which links it to the request's own row.
    """
    user = actor if getattr(actor, "pk", None) else None
    name = getattr(actor, "get_username", lambda: "")() or source
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
        request_id=_current_request_id(),
        ip=(ip if ip is not None else current_client_ip()) or None,
    )


def audit_request_record(
    *,
    actor: Any,
    auth: str,
    source: str,
    method: str,
    route: str,
    status: int,
    duration_ms: float,
    at: datetime,
    ip: str,
    request_id: str,
) -> AuditEvent:
    """Record one state-changing HTTP request: who, how authenticated, which route, outcome."""
    authenticated = getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        at=at,
        actor=actor if authenticated else None,
        actor_name=actor.get_username() if authenticated else "anonymous",
        auth=auth,
        source=source,
        action=AuditEvent.REQUEST,
        target=route[:_TARGET_MAX],
        outcome=request_outcome(status),
        request_id=request_id,
        ip=ip or None,
        method=method,
        route=route[:_ROUTE_MAX],
        status=status,
        duration_ms=duration_ms,
    )


def request_outcome(status: int) -> str:
    """ok (2xx, 3xx), denied (401, 403, 429: refused before acting) or failed."""
    if status < 400:
        return "ok"
    return "denied" if status in (401, 403, 429) else "failed"


def changed_fields(before: dict, after: dict) -> dict[str, tuple[Any, Any]]:
    """The fields whose value differs, as {field: (before, after)}."""
    return {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}


AUDIT_PRUNED = (
    "{count} audit events recorded before {older_than:%Y-%m-%d %H:%M} UTC deleted (retention)"
)


def audit_events_prunable(*, older_than: datetime) -> QuerySet[AuditEvent]:
    """The oldest rows, up to the first one recorded at or after `older_than`.

    Only a prefix of the chain may go, or the rows left would not link up: a row older than
    `older_than` that comes after a newer one (another host's clock) waits for the next run.
    Bounded by the ids there are now, so rows appended meanwhile are never deleted.
    """
    rows = AuditEvent.objects.order_by("id").values_list("id", flat=True)
    first_kept = rows.filter(at__gte=older_than).first()
    if first_kept is None:
        newest = rows.order_by("-id").first()
        first_kept = (newest or 0) + 1
    return AuditEvent.objects.filter(at__lt=older_than, id__lt=first_kept)


def _prune_batch(batch: QuerySet[AuditEvent]) -> None:
    """In a batch's transaction, before its DELETE: let it through, move the checkpoint."""
    chain_lock(connection.alias)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [PRUNE_SETTING])
    last = batch.order_by("-id").values_list("id", "hash").first()
    if last is not None:
        last_id, last_hash = last
        AuditCheckpoint.objects.update_or_create(
            pk=1,
            defaults={
                "last_id": last_id,
                "last_hash": last_hash,
                "signature": checkpoint_signature(last_id, last_hash),
            },
        )


def audit_events_prune(
    *,
    older_than: datetime,
    dry_run: bool = False,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    deadline: float | None = None,
) -> Deleted:
    """Delete the audit events recorded before `older_than`, oldest first, in bounded batches.

    The one place audit rows are deleted. Each batch, in its own transaction, records the
    signed checkpoint the chain now starts from; the whole run leaves an "audit.prune"
    event saying how many rows went and up to when.
    """
    old = audit_events_prunable(older_than=older_than)
    if dry_run:
        return Deleted(old.count(), True)
    deleted = delete_in_batches(
        old, batch_size=batch_size, progress=progress, deadline=deadline, before=_prune_batch
    )
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


@transaction.atomic
def audit_checkpoint_resign() -> bool:
    """Sign the pruning checkpoint again with the newest key (after a key rotation).

    Only a checkpoint that one of the configured keys verifies is signed again, so a forged
    one stays detectable. False if there is none or it does not verify.
    """
    checkpoint = AuditCheckpoint.objects.select_for_update().order_by("-last_id").first()
    if checkpoint is None or not checkpoint_valid(checkpoint):
        return False
    checkpoint.signature = checkpoint_signature(checkpoint.last_id, checkpoint.last_hash)
    checkpoint.save(update_fields=["signature"])
    return True


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
