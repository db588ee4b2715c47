"""Encryption at rest for stored credentials: Fernet keys from settings, rotated with MultiFernet.

Keys come from `settings.RESYNC_ENCRYPTION_KEYS` (newest first), never from a key made per
process, so encrypted values survive restarts and every process can read them. New values
are encrypted with the newest key; any listed key decrypts. To rotate: put a new key first,
keep the old ones, run `manage.py rotate_encryption_keys` (re-encrypts every value with the
newest key), then drop the old keys.

A stored value that no configured key decrypts (the key was dropped, or the development
secrets file was replaced) does not stop its row from loading: the field holds an
`UnreadableSecret`, which `plaintext()` turns into one clear error when the value is used,
and which is saved back unchanged, so putting the key back restores it.
"""

from __future__ import annotations

import base64
import binascii
import functools
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction

from apps.core.errors import ServiceUnavailableError

NO_KEYS = "RESYNC_ENCRYPTION_KEYS is empty: encrypted fields need at least one Fernet key"
BAD_KEY = (
    "RESYNC_ENCRYPTION_KEYS item {position} of {count} is not a Fernet key "
    "(32 url-safe base64-encoded bytes)"
)
BAD_KEY_HINT = (
    "Make a key with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())' (keys are comma-separated, newest first)."
)
UNREADABLE = (
    "{what} cannot be decrypted: it was encrypted {when} with a key that is not among the "
    "{count} key(s) of RESYNC_ENCRYPTION_KEYS (from {source}). Put that key back in "
    "RESYNC_ENCRYPTION_KEYS, or enter the value again{reset}"
)
RESET_HINT = " (development: `make reset` starts over with a new database and secrets)"


class SecretUnreadableError(ServiceUnavailableError):
    """A stored secret cannot be decrypted with the configured keys (or the keys are bad)."""


def key_problems(keys: list[str] | tuple[str, ...]) -> list[str]:
    """What is wrong with a list of Fernet keys, one message per bad key (empty if usable)."""
    if not keys:
        return [NO_KEYS]
    problems = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            problems.append(BAD_KEY.format(position=position, count=len(keys)))
    return problems


@register()
def encryption_keys_check(app_configs=None, **kwargs) -> list[Error]:
    """security.E001: every key in RESYNC_ENCRYPTION_KEYS must be a Fernet key."""
    keys = list(settings.RESYNC_ENCRYPTION_KEYS)
    return [Error(p, hint=BAD_KEY_HINT, id="security.E001") for p in key_problems(keys)]


@functools.lru_cache(maxsize=4)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    problems = key_problems(keys)
    if problems:
        raise ImproperlyConfigured(problems[0])
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    """The MultiFernet of the configured keys (cached per key list, so settings changes apply)."""
    return _multi_fernet(tuple(settings.RESYNC_ENCRYPTION_KEYS))


def encrypt(text: str) -> str:
    """Encrypt with the newest key."""
    return fernet().encrypt(text.encode()).decode()


def decrypt(token: str, *, what: str = "An encrypted value") -> str:
    """Decrypt with whichever configured key made the token (SecretUnreadableError if none)."""
    try:
        return fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ImproperlyConfigured):
        raise SecretUnreadableError(unreadable_message(token, what=what)) from None


def _encrypted_at(token: str) -> str:
    # A Fernet token starts with version 0x80 and its creation time (8 bytes, big-endian);
    # the time is readable without a key, which is what tells which key is missing.
    try:
        data = base64.urlsafe_b64decode(token.encode())
    except (binascii.Error, ValueError):
        data = b""
    if len(data) < 9 or data[0] != 0x80:
        return "(not as a Fernet token)"
    try:
        stamp = datetime.fromtimestamp(int.from_bytes(data[1:9], "big"), tz=UTC)
    except (OverflowError, OSError, ValueError):  # a damaged token
        return "at an unreadable time"
    return f"on {stamp:%Y-%m-%d %H:%M} UTC"


def unreadable_message(token: str, *, what: str) -> str:
    """One line saying why `token` cannot be decrypted and how to recover."""
    keys = list(settings.RESYNC_ENCRYPTION_KEYS)
    problems = key_problems(keys)
    if problems:
        return f"{what} cannot be decrypted: {problems[0]}"
    return UNREADABLE.format(
        what=what,
        when=_encrypted_at(token),
        count=len(keys),
        source=getattr(settings, "RESYNC_ENCRYPTION_KEYS_SOURCE", "settings"),
        reset="" if settings.PRODUCTION else RESET_HINT,
    )


class UnreadableSecret:
    """A stored encrypted value that no configured key decrypts; it keeps the token as is."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return "<unreadable encrypted value>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnreadableSecret) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)


def plaintext(value: str | UnreadableSecret, *, what: str) -> str:
    """The text of an encrypted field's value; SecretUnreadableError naming `what` if unreadable."""
    if isinstance(value, UnreadableSecret):
        raise SecretUnreadableError(unreadable_message(value.token, what=what))
    return value


class EncryptedTextField(models.TextField):
    """A text field stored as a Fernet token; Python code only ever sees the plain text.

    The empty string is stored as is (nothing to hide), so "no password" stays visible.
    Tokens differ on every save, so the field cannot be filtered on. A token no key opens
    loads as an `UnreadableSecret` (read it with `plaintext()`).
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        try:
            return fernet().decrypt(value.encode()).decode()
        except (InvalidToken, ImproperlyConfigured):
            return UnreadableSecret(value)

    def to_python(self, value):
        return value if isinstance(value, UnreadableSecret) else super().to_python(value)

    def get_prep_value(self, value):
        if isinstance(value, UnreadableSecret):
            return value.token  # saving the row must not destroy what a lost key may reopen
        value = super().get_prep_value(value)
        return encrypt(value) if value else value


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    """Every (model, field) that stores encrypted values, across all installed apps."""
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


@transaction.atomic
def encrypted_values_rotate() -> int:
    """Re-encrypt every stored encrypted value with the newest key; returns how many.

    One unreadable value stops the rotation before anything is written (SecretUnreadableError
    naming the row), so no value is left behind on a key about to be dropped.
    """
    quote = connection.ops.quote_name
    multi = fernet()
    count = 0
    with connection.cursor() as cursor:
        for model, field in encrypted_fields():
            table, column = quote(model._meta.db_table), quote(field.column)
            pk = quote(model._meta.pk.column)
            cursor.execute(f"SELECT {pk}, {column} FROM {table}")  # noqa: S608  # nosec B608  # quoted model identifiers
            for key, token in cursor.fetchall():
                if not token:
                    continue
                try:
                    rotated = multi.rotate(token.encode()).decode()
                except InvalidToken:
                    what = f"{model._meta.label}.{field.name} of row {key}"
                    raise SecretUnreadableError(unreadable_message(token, what=what)) from None
                cursor.execute(
                    f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608  # nosec B608  # quoted model identifiers; values are %s parameters
                    [rotated, key],
                )
                count += 1
    return count
