"""Who may do what: every API view and admin page names the one permission it needs.

A view declares `required_permission`: one permission for every method, a mapping
{method: permission} when methods differ (HEAD and OPTIONS follow GET), or PUBLIC. A view
that declares nothing is refused to everyone, and tests/security/test_permission_matrix.py
fails, so a new endpoint cannot ship unprotected.

The permissions (roles in apps/security/roles.py are groups of them; superusers hold all):

- VIEW_PLAN: read jobs, job streams, workstations and their status counts
- ACT_ON_JOB: rerun, hold, release or cancel a job in HWA
- ADMINISTER: the one meaning of "administrator": pools, cache and HWA connection settings,
  CORS origins, cache clear, users and roles, API keys
- VIEW_MONITORING: audit log, security events, pool and cache statistics, health details
- TEST_HWA_CONNECTION: run "Test connection" (it sends the stored HWA password)
- AUTHENTICATED: any signed-in caller, whatever the role; PUBLIC: anyone

A request made with an API key (`request.auth` has `scopes`) gets the permission only if the
key's owner holds it AND a scope grants it (apps/security/scopes.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.permissions import BasePermission

from apps.security.scopes import scopes_allow

VIEW_PLAN = "security.view_plan"
ACT_ON_JOB = "core.act_on_job"
ADMINISTER = "security.administer"
VIEW_MONITORING = "security.view_monitoring"
TEST_HWA_CONNECTION = "security.test_hwa_connection"
# Anyone, signed in or not (health, token endpoints, the schema in development).
PUBLIC = "public"
# Anyone signed in, whatever their role (the schema and its docs in production).
AUTHENTICATED = "authenticated"

NOT_PERMITTED = "You do not have permission to do this ({permission})."
UNDECLARED = "This endpoint declares no required permission, so nobody may call it."


def rule_for(view: Any, method: str) -> str | None:
    """The permission `view` declares for `method`, or None if it declares none."""
    declared = getattr(view, "required_permission", None)
    if isinstance(declared, Mapping):
        if method in declared:
            return declared[method]
        return declared.get("GET") if method in ("HEAD", "OPTIONS") else None
    return declared or None


def request_allows(request: Any, permission: str) -> bool:
    """True if this request's user holds `permission` (and its API key's scopes allow it)."""
    if permission == PUBLIC:
        return True
    user = getattr(request, "user", None)
    if permission == AUTHENTICATED:
        return bool(user and user.is_authenticated)
    if not (user and user.is_authenticated and _holds(user, permission)):
        return False
    scopes = getattr(getattr(request, "auth", None), "scopes", None)
    return scopes is None or scopes_allow(scopes, permission)


def _holds(user: Any, permission: str) -> bool:
    """`user.has_perm(permission)`, remembered on the user object.

    Django's has_perm imports and instantiates every authentication backend on each call,
    half the cost of a cached plan read's permission check (issue 12's profile). The answer
    is fixed for a user object anyway: ModelBackend keeps the permissions it read on the
    object for its lifetime. The JWT path shares one object per user for a few seconds
    (apps/security/authentication.py), and a change to the user, their roles or a role's
    permissions replaces it.
    """
    verdicts = getattr(user, _VERDICTS, None)  # getattr/setattr: a lazy user proxies them
    if verdicts is None:
        verdicts = {}
        setattr(user, _VERDICTS, verdicts)
    # The flags has_perm reads from the object itself, in case one is changed in place.
    key = (permission, user.is_active, user.is_superuser)
    held = verdicts.get(key)
    if held is None:
        held = verdicts[key] = user.has_perm(permission)
    return held


_VERDICTS = "_resync_permission_verdicts"


class RequiredPermission(BasePermission):
    """DRF's default permission class: enforces the view's `required_permission`."""

    message = UNDECLARED

    def has_permission(self, request, view) -> bool:
        permission = rule_for(view, request.method)
        if permission is None:
            return False
        self.message = NOT_PERMITTED.format(permission=permission)
        return request_allows(request, permission)


class RequiredPermissionAdmin:
    """ModelAdmin mixin: the page needs `required_permission`; model permissions play no part.

    Entering the admin still needs the staff flag (Django's AdminSite); read-only pages
    refuse changes on their own (ReadOnlyAdmin), whatever the permission.
    """

    required_permission: str = ""

    def _permitted(self, request) -> bool:
        return bool(self.required_permission) and request.user.has_perm(self.required_permission)

    def has_module_permission(self, request) -> bool:
        return self._permitted(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._permitted(request)

    def has_add_permission(self, request) -> bool:
        return self._permitted(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._permitted(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._permitted(request)
