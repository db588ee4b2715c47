"""manage.py ensure_demo_admin: the demo administrator for a local run."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Create the demo superuser, with the password kept in the untracked local file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin", help="Username (default admin).")

    def handle(self, *args, username: str, **options) -> None:
        password = settings.LOCAL_SECRETS.get("DEMO_ADMIN_PASSWORD")
        if settings.PRODUCTION or not password:
            raise CommandError("The demo admin exists only in development; use createsuperuser.")
        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists():
            self.stdout.write(
                f"Demo admin {username!r} exists; its password is in {settings.LOCAL_SECRETS_FILE}."
            )
            return
        user_model.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created demo admin {username!r} with password {password}\n"
                f"(shown once; it is kept in {settings.LOCAL_SECRETS_FILE})"
            )
        )
