"""What grant_role and revoke_role share: arguments, user look-up, the audit actor."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

NO_USER = "No user {username!r}."


class RoleCommand(BaseCommand):
    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The user.")
        parser.add_argument("role", help="viewer, operator, administrator, auditor (or any group).")
        parser.add_argument(
            "--as-user", help="Username recorded in the audit log (default: the command)."
        )

    def user(self, username: str | None):
        if username is None:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(NO_USER.format(username=username)) from None
