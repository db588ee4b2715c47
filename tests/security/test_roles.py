"""grant_role, revoke_role and permission_matrix: roles in and out, the staff flag, the audit."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.monitoring.models import AuditEvent
from apps.security.management.commands._roles import NO_USER
from apps.security.roles import ADMINISTRATOR, AUDITOR, OPERATOR, VIEWER
from apps.security.services import UNKNOWN_ROLE
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def alice():
    return UserFactory(username="alice")


def test_granting_a_role_opens_its_endpoints_at_once(alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(alice)}")
    assert client.get("/api/v1/jobs/").status_code == 403  # alice's row is cached now

    run("grant_role", "alice", VIEWER)

    assert client.get("/api/v1/jobs/").status_code == 200
    run("revoke_role", "alice", VIEWER)
    assert client.get("/api/v1/jobs/").status_code == 403


def test_a_grant_is_audited_with_the_groups_before_and_after(alice):
    admin = UserFactory(username="boss", is_superuser=True)

    run("grant_role", "alice", OPERATOR, "--as-user", "boss")

    event = AuditEvent.objects.get(action="role.grant")
    assert (event.actor, event.source, event.target) == (admin, "command", "user:alice")
    assert (event.before, event.after) == ({"groups": []}, {"groups": [OPERATOR]})


@pytest.mark.parametrize("role", [ADMINISTRATOR, AUDITOR])
def test_admin_roles_set_the_staff_flag(alice, role):
    output = run("grant_role", "alice", role)

    alice.refresh_from_db()
    assert alice.is_staff
    assert "staff" in output
    assert AuditEvent.objects.get(action="role.grant").after["is_staff"] is True


@pytest.mark.parametrize("role", [VIEWER, OPERATOR])
def test_api_roles_leave_the_staff_flag_alone(alice, role):
    run("grant_role", "alice", role)

    alice.refresh_from_db()
    assert not alice.is_staff


def test_revoking_the_last_admin_role_clears_the_staff_flag(alice):
    run("grant_role", "alice", ADMINISTRATOR)
    run("grant_role", "alice", AUDITOR)

    run("revoke_role", "alice", ADMINISTRATOR)
    alice.refresh_from_db()
    assert alice.is_staff  # still an auditor

    run("revoke_role", "alice", AUDITOR)
    alice.refresh_from_db()
    assert not alice.is_staff
    event = AuditEvent.objects.filter(action="role.revoke").first()
    assert event.before == {"groups": [AUDITOR], "is_staff": True}
    assert event.after == {"groups": [], "is_staff": False}


def test_a_superuser_keeps_the_staff_flag(alice):
    alice.is_superuser = alice.is_staff = True
    alice.save()
    run("grant_role", "alice", AUDITOR)

    run("revoke_role", "alice", AUDITOR)

    alice.refresh_from_db()
    assert alice.is_staff


def test_granting_twice_changes_nothing_the_second_time(alice):
    run("grant_role", "alice", VIEWER)

    output = run("grant_role", "alice", VIEWER)

    assert "nothing changed" in output
    assert AuditEvent.objects.filter(action="role.grant").count() == 1


def test_an_unknown_role_or_user_is_a_clear_error(alice):
    with pytest.raises(CommandError) as unknown_role:
        run("grant_role", "alice", "wizard")
    with pytest.raises(CommandError) as unknown_user:
        run("revoke_role", "nobody", VIEWER)

    roles = f"{ADMINISTRATOR}, {AUDITOR}, {OPERATOR}, {VIEWER}"
    assert str(unknown_role.value) == UNKNOWN_ROLE.format(role="wizard", roles=roles)
    assert str(unknown_user.value) == NO_USER.format(username="nobody")
    assert not AuditEvent.objects.exists()


def test_permission_matrix_prints_every_operation_with_each_roles_outcome():
    output = run("permission_matrix")

    lines = output.splitlines()
    assert lines[0] == (
        "| method | path | permission | viewer | operator | administrator | auditor | anonymous |"
    )
    assert (
        "| `POST` | `/api/v1/jobs/{pk}/actions/{action}/` | `core.act_on_job` "
        "| 403 | allowed | allowed | 403 | 401 |" in lines
    )
    assert "UNDECLARED" not in output


def test_the_readme_shows_the_current_matrix():
    from django.conf import settings

    readme = (settings.BASE_DIR / "README.md").read_text()

    assert run("permission_matrix") in readme, "paste `manage.py permission_matrix` into README"
