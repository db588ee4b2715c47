"""manage.py grant_role USER ROLE: put a user in a role (audited)."""

from __future__ import annotations

from django.core.management.base import CommandError

from apps.core.errors import ApplicationError
from apps.security.management.commands._roles import RoleCommand
from apps.security.services import role_grant


class Command(RoleCommand):
    help = "Grant a role to a user; administrator and auditor also set the staff flag."

    def handle(self, *args, username: str, role: str, as_user: str | None, **options) -> None:
        user, actor = self.user(username), self.user(as_user)
        try:
            granted = role_grant(user=user, role=role, actor=actor, source="command")
        except ApplicationError as exc:
            raise CommandError(exc.detail) from None
        if not granted:
            self.stdout.write(f"{username} already has the role {role}; nothing changed.")
            return
        staff = " (staff: may use the admin)" if user.is_staff else ""
        self.stdout.write(self.style.SUCCESS(f"Granted {role} to {username}{staff}."))
