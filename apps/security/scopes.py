"""API key scopes and the permission each one stands for.

A request made with an API key may do what its scopes allow AND what the key's owner may
do: a key never grants more than its owner's role.
"""

from __future__ import annotations

from collections.abc import Iterable

PLAN_READ = "plan:read"
JOBS_OPERATE = "jobs:operate"
CONFIG_ADMIN = "config:admin"
MONITORING_READ = "monitoring:read"

# scope -> the Django permission ("app_label.codename") it grants
SCOPE_PERMISSIONS: dict[str, str] = {
    PLAN_READ: "security.view_plan",
    JOBS_OPERATE: "core.act_on_job",
    CONFIG_ADMIN: "security.administer",
    MONITORING_READ: "security.view_monitoring",
}
SCOPES = tuple(SCOPE_PERMISSIONS)


def scopes_allow(scopes: Iterable[str], permission: str) -> bool:
    """True if one of `scopes` grants `permission`."""
    return any(SCOPE_PERMISSIONS.get(scope) == permission for scope in scopes)
