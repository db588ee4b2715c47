"""manage.py revoke_role USER ROLE: take a user out of a role (audited)."""

from __future__ import annotations

from django.core.management.base import CommandError

from apps.core.errors import ApplicationError
from apps.security.management.commands._roles import RoleCommand
from apps.security.services import role_revoke


class Command(RoleCommand):
    help = "Revoke a role from a user; the staff flag goes with the last role that needs it."

    def handle(self, *args, username: str, role: str, as_user: str | None, **options) -> None:
        user, actor = self.user(username), self.user(as_user)
        try:
            revoked = role_revoke(user=user, role=role, actor=actor, source="command")
        except ApplicationError as exc:
            raise CommandError(exc.detail) from None
        if not revoked:
            self.stdout.write(f"{username} does not have the role {role}; nothing changed.")
            return
        self.stdout.write(self.style.SUCCESS(f"Revoked {role} from {username}."))
