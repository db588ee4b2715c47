"""manage.py unlock USER|IP: lift a login lockout (audited)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.security.lockout import lockout_lift


class Command(BaseCommand):
    help = "Lift the login lockout of a username (from every address) or of a client IP address."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", help="A username, or an IPv4/IPv6 address.")
        parser.add_argument(
            "--as-user", help="Username recorded in the audit log (default: the command)."
        )

    def handle(self, *args, target: str, as_user: str | None, **options) -> None:
        lifted = lockout_lift(target=target, actor=_actor(as_user), source="command")
        for lock in lifted:
            self.stdout.write(f"  lifted {lock.target}")
        self.stdout.write(
            self.style.SUCCESS(f"Unlocked {target}: {len(lifted)} active lock(s) lifted.")
        )


def _actor(username: str | None):
    if not username:
        return None
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"No user {username!r}.") from None
