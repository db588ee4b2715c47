"""Encryption at rest for stored credentials: Fernet keys from settings, rotated with MultiFernet.

Keys come from `settings.RESYNC_ENCRYPTION_KEYS` (newest first), never from a key made per
process, so encrypted values survive restarts and every process can read them. New values
are encrypted with the newest key; any listed key decrypts. To rotate: put a new key first,
keep the old ones, run `manage.py rotate_encryption_keys` (re-encrypts every value with the
newest key), then drop the old keys.
"""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction

NO_KEYS = "RESYNC_ENCRYPTION_KEYS is empty: encrypted fields need at least one Fernet key"
UNREADABLE = "An encrypted value cannot be decrypted with any key in RESYNC_ENCRYPTION_KEYS"


@functools.lru_cache(maxsize=4)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(NO_KEYS)
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    """The MultiFernet of the configured keys (cached per key list, so settings changes apply)."""
    return _multi_fernet(tuple(settings.RESYNC_ENCRYPTION_KEYS))


def encrypt(text: str) -> str:
    """Encrypt with the newest key."""
    return fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt with whichever configured key made the token."""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(UNREADABLE) from None


class EncryptedTextField(models.TextField):
    """A text field stored as a Fernet token; Python code only ever sees the plain text.

    The empty string is stored as is (nothing to hide), so "no password" stays visible.
    Tokens differ on every save, so the field cannot be filtered on.
    """

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
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
    """Re-encrypt every stored encrypted value with the newest key; returns how many."""
    quote = connection.ops.quote_name
    multi = fernet()
    count = 0
    with connection.cursor() as cursor:
        for model, field in encrypted_fields():
            table, column = quote(model._meta.db_table), quote(field.column)
            pk = quote(model._meta.pk.column)
            cursor.execute(f"SELECT {pk}, {column} FROM {table}")  # noqa: S608
            for key, token in cursor.fetchall():
                if not token:
                    continue
                try:
                    rotated = multi.rotate(token.encode()).decode()
                except InvalidToken:
                    raise ImproperlyConfigured(UNREADABLE) from None
                cursor.execute(
                    f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                    [rotated, key],
                )
                count += 1
    return count
