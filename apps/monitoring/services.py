"""Monitoring writes: recording audit events and requests, and pruning them past their retention.

Every row goes through `AuditEvent.save()`, which links it into the hash chain
(apps.monitoring.chain); rows are never updated, and deleted only by `audit_events_prune`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from apps.core.bulk import Deleted, delete_in_batches
from apps.core.middleware import NO_REQUEST_ID, current_request_id
from apps.monitoring.chain import chain_lock, checkpoint_signature, checkpoint_valid
from apps.monitoring.models import AuditCheckpoint, AuditEvent
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
