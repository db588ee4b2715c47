"""Monitoring writes: recording audit events."""

from __future__ import annotations

from typing import Any

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
