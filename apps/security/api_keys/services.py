"""API key writes: issue, rotate, revoke, and the throttled last-used stamp. Each is audited
(never with the key itself, which is returned once and stored nowhere)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.errors import ApplicationError, ConflictError
from apps.monitoring.services import audit_record
from apps.security.api_keys.models import ApiKey
from apps.security.scopes import SCOPES

NAME_REQUIRED = "A key needs a name (at most 50 characters)."
NO_SCOPES = "A key needs at least one scope."
UNKNOWN_SCOPES = "Unknown scope(s): {scopes}. Known: {known}."
EXPIRY_IN_PAST = "The expiry time must be in the future."
INACTIVE_OWNER = "The owner {username!r} is inactive."
ROTATE_REVOKED = "A revoked key cannot be rotated."
ROTATE_EXPIRED = "An expired key cannot be rotated; create a new one."
ALREADY_ROTATED = "This key was already rotated to {prefix}; rotate that one."
GRACE_IN_PAST = "The old key's grace time must not be in the past."
GRACE_TOO_LONG = "The old key's grace time may be at most {days} days away."

DEFAULT_GRACE = timedelta(hours=1)
MAX_GRACE = timedelta(days=30)
LAST_USED_EVERY = timedelta(minutes=1)
_UNCHANGED: Any = object()  # "keep the old key's expiry"


def scopes_clean(scopes: Iterable[str]) -> list[str]:
    """The scopes, deduplicated in SCOPES order; raises on empty or unknown ones."""
    wanted = set(scopes)
    if not wanted:
        raise ApplicationError(NO_SCOPES, extra={"errors": {"scopes": [NO_SCOPES]}})
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        message = UNKNOWN_SCOPES.format(scopes=", ".join(unknown), known=", ".join(SCOPES))
        raise ApplicationError(message, extra={"errors": {"scopes": [message]}})
    return [scope for scope in SCOPES if scope in wanted]


def _check_expiry(expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError(EXPIRY_IN_PAST, extra={"errors": {"expires_at": [EXPIRY_IN_PAST]}})


def _describe(api_key: ApiKey) -> dict:
    return {
        "name": api_key.name,
        "owner": api_key.owner.get_username(),
        "scopes": list(api_key.scopes),
        "expires_at": api_key.expiry_date.isoformat() if api_key.expiry_date else None,
    }


@transaction.atomic
def api_key_issue(*, api_key: ApiKey, actor, source: str, action: str = "api_key.create") -> str:
    """Validate an unsaved key, give it a secret, save it; returns the key (shown once)."""
    api_key.name = (api_key.name or "").strip()
    if not api_key.name or len(api_key.name) > 50:
        raise ApplicationError(NAME_REQUIRED, extra={"errors": {"name": [NAME_REQUIRED]}})
    api_key.scopes = scopes_clean(api_key.scopes)
    _check_expiry(api_key.expiry_date)
    if not api_key.owner.is_active:
        raise ApplicationError(INACTIVE_OWNER.format(username=api_key.owner.get_username()))
    key = ApiKey.objects.assign_key(api_key)
    api_key.save()
    after = _describe(api_key)
    if api_key.rotated_from_id:
        after["rotated_from"] = api_key.rotated_from.prefix
    audit_record(
        actor=actor, source=source, action=action, target=f"api_key:{api_key.prefix}", after=after
    )
    return key


def api_key_create(
    *,
    owner,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
    actor,
    source: str,
) -> tuple[ApiKey, str]:
    """A new key for `owner`; returns it and the key text, which is never shown again."""
    api_key = ApiKey(owner=owner, name=name, scopes=list(scopes), expiry_date=expires_at)
    return api_key, api_key_issue(api_key=api_key, actor=actor, source=source)


@transaction.atomic
def api_key_rotate(
    *,
    api_key: ApiKey,
    old_valid_until: datetime | None = None,
    expires_at: datetime | None = _UNCHANGED,
    actor,
    source: str,
) -> tuple[ApiKey, str]:
    """Issue the key's successor (same owner, name, scopes) and keep the old key valid until
    `old_valid_until` (default in one hour) so a deployment can switch without downtime.
    The successor expires at `expires_at` (default: when the old key would have)."""
    old = ApiKey.objects.select_for_update().select_related("owner").get(pk=api_key.pk)
    successor = ApiKey.objects.filter(rotated_from=old).first()
    if old.revoked:
        raise ConflictError(ROTATE_REVOKED)
    if old.has_expired:
        raise ConflictError(ROTATE_EXPIRED)
    if successor is not None:
        raise ConflictError(ALREADY_ROTATED.format(prefix=successor.prefix))
    now = timezone.now()
    grace_end = old_valid_until or now + DEFAULT_GRACE
    if grace_end < now:
        raise ApplicationError(
            GRACE_IN_PAST, extra={"errors": {"old_valid_until": [GRACE_IN_PAST]}}
        )
    if grace_end > now + MAX_GRACE:
        message = GRACE_TOO_LONG.format(days=MAX_GRACE.days)
        raise ApplicationError(message, extra={"errors": {"old_valid_until": [message]}})
    new = ApiKey(
        owner=old.owner,
        name=old.name,
        scopes=list(old.scopes),
        expiry_date=old.expiry_date if expires_at is _UNCHANGED else expires_at,
        rotated_from=old,
    )
    key = api_key_issue(api_key=new, actor=actor, source=source, action="api_key.rotate")
    if old.expiry_date is None or old.expiry_date > grace_end:
        old.expiry_date = grace_end
        old.save(update_fields=["expiry_date"])
    return new, key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor, source: str) -> ApiKey:
    """Revoke the key at once (irreversible); revoking a revoked key changes nothing."""
    api_key = ApiKey.objects.select_for_update().select_related("owner").get(pk=api_key.pk)
    if api_key.revoked:
        return api_key
    api_key.revoked = True
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked", "revoked_at"])
    audit_record(
        actor=actor,
        source=source,
        action="api_key.revoke",
        target=f"api_key:{api_key.prefix}",
        after=_describe(api_key),
    )
    return api_key


def api_key_touch(*, api_key: ApiKey) -> bool:
    """Stamp last use, at most once a minute per key across every process; True if written.

    The key row is read on every request anyway, so its stamp says whether a write is due;
    the conditional update keeps two processes from both writing in the same minute.
    """
    now = timezone.now()
    due = now - LAST_USED_EVERY
    if api_key.last_used_at is not None and api_key.last_used_at > due:
        return False
    written = (
        ApiKey.objects.filter(pk=api_key.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=due))
        .update(last_used_at=now)
    )
    if written:
        api_key.last_used_at = now
    return bool(written)
