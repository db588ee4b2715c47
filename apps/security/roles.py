"""The roles: Django groups, each a set of the permissions in apps/security/permissions.py.

The migration security/0002_roles creates these groups; administrators may edit them in the
admin (Authentication and authorization > Groups). `manage.py grant_role USER ROLE` and
`revoke_role` put users in and out of them. Superusers hold every permission.
"""

from __future__ import annotations

from apps.security.permissions import (
    ACT_ON_JOB,
    ADMINISTER,
    TEST_HWA_CONNECTION,
    VIEW_MONITORING,
    VIEW_PLAN,
)

VIEWER = "viewer"
OPERATOR = "operator"
ADMINISTRATOR = "administrator"
AUDITOR = "auditor"

ROLES: dict[str, tuple[str, ...]] = {
    VIEWER: (VIEW_PLAN,),
    OPERATOR: (VIEW_PLAN, ACT_ON_JOB),
    # Administrators also see the statistics of what they tune, and may test the HWA
    # connection they configure (a separate permission, so it can be taken away).
    ADMINISTRATOR: (VIEW_PLAN, ACT_ON_JOB, ADMINISTER, VIEW_MONITORING, TEST_HWA_CONNECTION),
    AUDITOR: (VIEW_MONITORING,),
}

# A role carrying one of these works in the admin: granting it sets the staff flag, which
# Django's admin requires; revoking the last such role clears it (superusers keep it).
STAFF_PERMISSIONS = frozenset({ADMINISTER, VIEW_MONITORING})
