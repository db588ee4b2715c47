"""manage.py api_key create|rotate|revoke|list: API keys for integrations (audited)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.errors import ApplicationError
from apps.security.api_keys import selectors, services
from apps.security.scopes import SCOPES

BAD_TIME = "{value!r} is not an ISO 8601 date and time (e.g. 2030-01-31T18:00:00+00:00)."


class Command(BaseCommand):
    help = "Create, rotate, revoke or list API keys; a new key is printed once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-user", help="Username recorded in the audit log.")
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Issue a key for a user.")
        create.add_argument("--owner", required=True, help="The user the key acts as.")
        create.add_argument("--name", required=True, help="What the key is for (<= 50 chars).")
        create.add_argument(
            "--scope",
            action="append",
            required=True,
            choices=SCOPES,
            dest="scopes",
            help="Repeat for several scopes.",
        )
        create.add_argument("--expires", help="Expiry time (ISO 8601); default never.")
        rotate = actions.add_parser("rotate", help="Issue a key's successor.")
        rotate.add_argument("prefix")
        rotate.add_argument(
            "--old-valid-until", help="Until when the old key works (ISO 8601; default +1 h)."
        )
        revoke = actions.add_parser("revoke", help="Revoke a key at once.")
        revoke.add_argument("prefix")
        listing = actions.add_parser("list", help="List keys.")
        listing.add_argument("--owner", help="Only this user's keys.")

    def handle(self, *args, action: str, as_user: str | None, **options) -> None:
        actor = _user(as_user) if as_user else None
        try:
            getattr(self, f"_{action}")(actor=actor, **options)
        except ApplicationError as exc:
            raise CommandError(exc.detail) from None

    def _create(self, *, actor, owner: str, name: str, scopes: list[str], expires, **_) -> None:
        api_key, key = services.api_key_create(
            owner=_user(owner),
            name=name,
            scopes=scopes,
            expires_at=_time(expires),
            actor=actor,
            source="command",
        )
        self._issued(api_key, key)

    def _rotate(self, *, actor, prefix: str, old_valid_until, **_) -> None:
        old = selectors.api_key_get(prefix=prefix)
        new, key = services.api_key_rotate(
            api_key=old, old_valid_until=_time(old_valid_until), actor=actor, source="command"
        )
        old.refresh_from_db()
        self.stdout.write(f"{old.prefix} stays valid until {old.expiry_date.isoformat()}.")
        self._issued(new, key)

    def _revoke(self, *, actor, prefix: str, **_) -> None:
        services.api_key_revoke(
            api_key=selectors.api_key_get(prefix=prefix), actor=actor, source="command"
        )
        self.stdout.write(self.style.SUCCESS(f"Revoked {prefix}."))

    def _list(self, *, owner: str | None, **_) -> None:
        keys = selectors.api_key_list()
        if owner:
            keys = keys.filter(owner__username=owner)
        for api_key in keys:
            expires = api_key.expiry_date.isoformat() if api_key.expiry_date else "never"
            used = api_key.last_used_at.isoformat() if api_key.last_used_at else "never"
            self.stdout.write(
                f"{api_key.prefix}  {selectors.api_key_state(api_key):<8}  "
                f"{api_key.owner.get_username():<16} {api_key.name:<24} "
                f"{','.join(api_key.scopes):<40} expires {expires}  used {used}"
            )
        self.stdout.write(f"{len(keys)} key(s).")

    def _issued(self, api_key, key: str) -> None:
        self.stdout.write(f"Key {api_key.prefix} ({api_key.name}, {','.join(api_key.scopes)}):")
        self.stdout.write(key)
        self.stdout.write(
            self.style.WARNING("Store it now: it is not stored and will not be shown again.")
        )


def _user(username: str):
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"No user {username!r}.") from None


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(BAD_TIME.format(value=value))
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
