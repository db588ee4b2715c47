"""Security reads: who holds what, token families, and the permission matrix of the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from apps.security.models import TokenFamily
from apps.security.permissions import AUTHENTICATED, PUBLIC, rule_for
from apps.security.roles import ROLES

ALLOWED, FORBIDDEN, UNAUTHENTICATED = "allowed", "403", "401"
ANONYMOUS = "anonymous"


def _permission_names(permissions) -> list[str]:
    rows = permissions.values_list("content_type__app_label", "codename")
    return sorted(f"{app_label}.{codename}" for app_label, codename in rows)


def group_permission_names(group: Group) -> frozenset[str]:
    """The role's permissions as "app_label.codename"."""
    return frozenset(_permission_names(group.permissions.all()))


def user_access_snapshot(user: Any) -> dict[str, Any]:
    """What decides a user's access, as the audit log records it."""
    return {
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "user_permissions": _permission_names(user.user_permissions.all()),
    }


def group_access_snapshot(group: Group) -> dict[str, Any]:
    return {"name": group.name, "permissions": _permission_names(group.permissions.all())}


def token_family_is_active(family_id: str) -> bool:
    return TokenFamily.objects.filter(pk=family_id, revoked_at__isnull=True).exists()


def token_is_blacklisted(jti: str | None) -> bool:
    return BlacklistedToken.objects.filter(token__jti=jti).exists()


# --- The permission matrix ------------------------------------------------------------


@dataclass(frozen=True)
class EndpointRule:
    """One API operation and the permission its view declares (None: undeclared)."""

    path: str
    method: str
    view: type
    permission: str | None


def api_endpoint_rules() -> list[EndpointRule]:
    """Every API operation in the URL configuration, as drf-spectacular enumerates it."""
    from drf_spectacular.generators import EndpointEnumerator

    rules = []
    for path, _regex, method, callback in EndpointEnumerator().get_api_endpoints():
        view = callback.cls
        rules.append(EndpointRule(path, method, view, rule_for(view, method)))
    return sorted(rules, key=lambda rule: (rule.path, rule.method))


def role_permissions() -> dict[str, frozenset[str]]:
    """Each role (group) and its permissions; the four defaults first."""
    groups = {group.name: group_permission_names(group) for group in Group.objects.all()}
    order = [name for name in ROLES if name in groups] + sorted(set(groups) - set(ROLES))
    return {name: groups[name] for name in order}


def expected_outcome(permission: str | None, held: frozenset[str] | None) -> str:
    """What a caller holding `held` (None: not signed in) gets from an endpoint."""
    if permission == PUBLIC:
        return ALLOWED
    if held is None:
        return UNAUTHENTICATED
    if permission == AUTHENTICATED:
        return ALLOWED
    return ALLOWED if permission is not None and permission in held else FORBIDDEN


def permission_matrix() -> tuple[list[str], list[list[str]]]:
    """(header, rows): method, path, permission, then the outcome per role and anonymous."""
    roles = role_permissions()
    header = ["method", "path", "permission", *roles, ANONYMOUS]
    rows = []
    for rule in api_endpoint_rules():
        outcomes = [expected_outcome(rule.permission, held) for held in roles.values()]
        outcomes.append(expected_outcome(rule.permission, None))
        rows.append([rule.method, rule.path, rule.permission or "UNDECLARED", *outcomes])
    return header, rows
