"""manage.py flush_expired_tokens: forget refresh tokens and sign-ins that can no longer work."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from apps.security.services import token_families_flush


class Command(BaseCommand):
    help = "Delete expired refresh tokens (simplejwt's flushexpiredtokens) and token families."

    def handle(self, *args, **options) -> None:
        call_command("flushexpiredtokens")  # the blacklist entries go with their tokens
        families = token_families_flush()
        self.stdout.write(self.style.SUCCESS(f"Deleted expired tokens and {families} sign-in(s)."))
