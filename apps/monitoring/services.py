"""Monitoring writes: recording audit events, and pruning them past their retention."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from apps.core.bulk import Deleted, delete_in_batches
from apps.core.middleware import current_request_id
from apps.monitoring.models import AuditEvent
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
