"""Security writes: roles, the JWT refresh-token lifecycle, and the audit of access changes.

Token lifecycle (simplejwt + its token_blacklist app do the tokens and the blacklist; the
family bookkeeping is ours):

- sign in: a new TokenFamily; its id rides in the refresh token and every token derived
  from it (claim `family`).
- refresh: the presented token is blacklisted and a new one issued (rotation); the user is
  read fresh and must be active with an unchanged password, and the family not revoked.
- a rotated (blacklisted) token presented again: the family is revoked and the event
  audited; every refresh token of that login is useless from then on.
- logout: the token is blacklisted and its family revoked.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings

from apps.core.errors import NotFoundError
from apps.monitoring.services import audit_record, changed_fields
from apps.security.authentication import forget_family
from apps.security.models import TokenFamily
from apps.security.roles import STAFF_PERMISSIONS
from apps.security.selectors import (
    group_permission_names,
    token_family_is_active,
    token_is_blacklisted,
    user_access_snapshot,
)
from apps.security.tokens import (
    FAMILY_CLAIM,
    REUSED,
    RefreshToken,
    RefreshTokenReused,
    UntypedToken,
    token_user,
)

UNKNOWN_ROLE = "There is no role named {role!r}. Roles: {roles}."
NO_FAMILY = "Token has no family"
FAMILY_REVOKED = "Token family is revoked"
REUSE_DETAIL = "rotated refresh token {jti} used again; token family {family} revoked"
AUDIT_SOURCE = "api"  # the token endpoints are the only callers


# --- Roles ----------------------------------------------------------------------------


def _role(name: str) -> Group:
    group = Group.objects.filter(name=name).first()
    if group is None:
        roles = ", ".join(Group.objects.order_by("name").values_list("name", flat=True))
        raise NotFoundError(UNKNOWN_ROLE.format(role=name, roles=roles or "none"))
    return group


def _works_in_admin(group: Group) -> bool:
    return bool(group_permission_names(group) & STAFF_PERMISSIONS)


def access_change_record(
    *, actor: Any, source: str, action: str, target: str, before: dict | None, after: dict | None
) -> None:
    """Audit a change to a user's or a role's access (what changed, before and after)."""
    if before is not None and after is not None:
        changed = changed_fields(before, after)
        if not changed:
            return
        before = {field: old for field, (old, _new) in changed.items()}
        after = {field: new for field, (_old, new) in changed.items()}
    audit_record(
        actor=actor, source=source, action=action, target=target, before=before, after=after
    )


@transaction.atomic
def role_grant(*, user: Any, role: str, actor: Any, source: str) -> bool:
    """Put `user` in `role`; a role that works in the admin sets the staff flag. Audited."""
    group = _role(role)
    if user.groups.filter(pk=group.pk).exists():
        return False
    before = user_access_snapshot(user)
    user.groups.add(group)
    if _works_in_admin(group) and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    access_change_record(
        actor=actor,
        source=source,
        action="role.grant",
        target=f"user:{user.get_username()}",
        before=before,
        after=user_access_snapshot(user),
    )
    return True


@transaction.atomic
def role_revoke(*, user: Any, role: str, actor: Any, source: str) -> bool:
    """Take `user` out of `role`; the staff flag goes with the last admin role. Audited."""
    group = _role(role)
    if not user.groups.filter(pk=group.pk).exists():
        return False
    before = user_access_snapshot(user)
    user.groups.remove(group)
    still_in_admin = any(_works_in_admin(other) for other in user.groups.all())
    if user.is_staff and not user.is_superuser and not still_in_admin:
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    access_change_record(
        actor=actor,
        source=source,
        action="role.revoke",
        target=f"user:{user.get_username()}",
        before=before,
        after=user_access_snapshot(user),
    )
    return True


# --- Tokens ---------------------------------------------------------------------------


def token_family_start(*, user: Any) -> TokenFamily:
    """A new login: the family its refresh tokens will belong to."""
    return TokenFamily.objects.create(user=user)


def token_families_flush() -> int:
    """Delete the families none of whose tokens can still be valid; returns how many."""
    lifetime = api_settings.REFRESH_TOKEN_LIFETIME + api_settings.ACCESS_TOKEN_LIFETIME
    horizon = timezone.now() - lifetime - timedelta(seconds=_leeway_seconds())
    deleted, _ = TokenFamily.objects.filter(refreshed_at__lt=horizon).delete()
    return deleted


def _leeway_seconds() -> float:
    leeway = api_settings.LEEWAY
    return leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway or 0)


def token_family_revoke(*, family_id: str, reason: str) -> bool:
    """Revoke a family (no refresh token of it works any more); False if it already was."""
    updated = TokenFamily.objects.filter(pk=family_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )
    # Other processes follow within USER_CACHE_SECONDS; this one once the change is committed.
    transaction.on_commit(lambda: forget_family(family_id=family_id))
    return updated > 0


def _family_of(token: RefreshToken) -> str:
    family_id = token.get(FAMILY_CLAIM)
    if not family_id:
        raise TokenError(NO_FAMILY)
    return family_id


def _family_user(family_id: str) -> Any:
    family = TokenFamily.objects.filter(pk=family_id).select_related("user").first()
    return family.user if family else None


def _target(user: Any, token_payload: dict[str, Any]) -> str:
    name = user.get_username() if user else token_payload.get(api_settings.USER_ID_CLAIM)
    return f"user:{name}"


def _reuse_refuse(payload: dict[str, Any]) -> TokenError:
    """A rotated token came back: revoke its family, audit, and say no (401).

    The caller may be the thief or the victim: the audit names the token's owner as the
    target and leaves the actor empty; the IP and request id say who called.
    """
    family_id = payload.get(FAMILY_CLAIM, "")
    if family_id:
        token_family_revoke(family_id=family_id, reason=TokenFamily.Reason.REUSE)
    audit_record(
        actor=None,
        source=AUDIT_SOURCE,
        action="auth.refresh_reuse",
        target=_target(_family_user(family_id), payload),
        outcome="refused",
        detail=REUSE_DETAIL.format(jti=payload.get(api_settings.JTI_CLAIM), family=family_id),
    )
    return TokenError(FAMILY_REVOKED)


def _refresh_token_load(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except RefreshTokenReused as reused:
        raise _reuse_refuse(reused.payload) from None


def token_refresh(*, raw: str) -> dict[str, str]:
    """Rotate a refresh token: a new access and refresh token, the old one blacklisted."""
    refresh = _refresh_token_load(raw)
    token_user(refresh)  # 401: deleted, inactive, or the password changed since
    family_id = _family_of(refresh)
    if not token_family_is_active(family_id):
        raise TokenError(FAMILY_REVOKED)
    _blacklisted, created = refresh.blacklist()
    if not created:  # another request rotated this very token a moment ago
        raise _reuse_refuse(refresh.payload)
    refresh.set_jti()
    refresh.set_exp()
    refresh.set_iat()
    refresh.outstand()
    TokenFamily.objects.filter(pk=family_id).update(refreshed_at=timezone.now())
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def token_verify(*, raw: str) -> None:
    """Raise (401) unless the token would be accepted now, whatever its type."""
    token = UntypedToken(raw)
    if token_is_blacklisted(token.get(api_settings.JTI_CLAIM)):
        raise TokenError(REUSED)
    token_user(token)
    family_id = token.get(FAMILY_CLAIM)
    if family_id and not token_family_is_active(family_id):
        raise TokenError(FAMILY_REVOKED)


def token_logout(*, raw: str) -> None:
    """Sign out: blacklist the refresh token and revoke its family. Audited."""
    refresh = _refresh_token_load(raw)
    family_id = _family_of(refresh)
    refresh.blacklist()
    token_family_revoke(family_id=family_id, reason=TokenFamily.Reason.LOGOUT)
    user = _family_user(family_id)
    audit_record(
        actor=user,
        source=AUDIT_SOURCE,
        action="auth.logout",
        target=_target(user, refresh.payload),
        detail=f"token family {family_id} revoked",
    )
