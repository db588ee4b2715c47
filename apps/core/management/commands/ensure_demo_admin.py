"""manage.py ensure_demo_admin: the demo administrator for a local run."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEVELOPMENT_ONLY = "The demo admin exists only in development; use createsuperuser."
EXISTS = "Demo admin {username!r} exists; its password is in {file}."
ADMIN_NOT_IN_FILE = (
    "Demo admin {username!r} exists, but its password is not the one in {file} (was the file "
    "deleted or replaced?). Set one with `python manage.py changepassword {username}`, "
    "or start over with `make reset` (removes the local database and secrets)."
)
CREATED = (
    "Created demo admin {username!r} with password {password}\n(shown once; it is kept in {file})"
)


class Command(BaseCommand):
    help = "Create the demo superuser, with the password kept in the untracked local file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin", help="Username (default admin).")

    def handle(self, *args, username: str, **options) -> None:
        password = settings.LOCAL_SECRETS.get("DEMO_ADMIN_PASSWORD")
        if settings.PRODUCTION or not password:
            raise CommandError(DEVELOPMENT_ONLY)
        file = settings.LOCAL_SECRETS_FILE
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            get_user_model().objects.create_superuser(
                username=username, email="", password=password
            )
            message = CREATED.format(username=username, password=password, file=file)
            self.stdout.write(self.style.SUCCESS(message))
        elif user.check_password(password):
            self.stdout.write(EXISTS.format(username=username, file=file))
        else:
            # Not an error: the server runs; only this login needs a new password.
            self.stderr.write(
                ADMIN_NOT_IN_FILE.format(username=username, file=file),
                self.style.WARNING,
            )
