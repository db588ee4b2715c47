"""manage.py apply_config_preset: set pools and cache to a named preset, showing the diff."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core import presets
from apps.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Apply a configuration preset (current, recommended) to every pool and the cache."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Preset name, e.g. current or recommended.")
        parser.add_argument("--dry-run", action="store_true", help="Show the diff only.")
        parser.add_argument(
            "--as-user", help="Username recorded in the audit log (default: the command)."
        )

    def handle(self, *args, name: str, dry_run: bool, as_user: str | None, **options) -> None:
        actor = self._actor(as_user)
        try:
            changes = presets.preset_diff(name)
        except ApplicationError as exc:
            raise CommandError(exc.detail) from None
        for change in changes:
            self.stdout.write(
                f"  {change.target:<20} {change.field:<24} {change.before!s:>10} -> {change.after}"
            )
        if not changes:
            self.stdout.write(f"Already at preset {name!r}; nothing to change.")
            return
        if dry_run:
            self.stdout.write(f"Dry run: {len(changes)} change(s) not applied.")
            return
        try:
            presets.preset_apply(name, actor=actor, source="command")
        except ApplicationError as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(self.style.SUCCESS(f"Applied preset {name!r}: {len(changes)} change(s)."))

    def _actor(self, username: str | None):
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None
