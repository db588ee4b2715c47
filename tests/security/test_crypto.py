"""Encrypted fields: bad keys are a system check error; a value no key opens fails in one line."""

from __future__ import annotations

import re

import pytest
from cryptography.fernet import Fernet
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from apps.core.models import HwaConnection
from apps.core.services.hwa import hwa_connection_save
from apps.security.crypto import (
    BAD_KEY,
    BAD_KEY_HINT,
    SecretUnreadableError,
    UnreadableSecret,
    encrypt,
    plaintext,
)

PASSWORD = "s3cret-hwa"


def _errors(**kwargs) -> list:
    return [m for m in run_checks(**kwargs) if m.id == "security.E001"]


def test_a_key_that_is_not_a_fernet_key_is_a_system_check_error(settings):
    settings.RESYNC_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), "garbage"]

    errors = _errors()

    assert [e.msg for e in errors] == [BAD_KEY.format(position=2, count=2)]
    assert errors[0].hint == BAD_KEY_HINT


def test_good_keys_pass_the_check(settings):
    settings.RESYNC_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    assert _errors() == []


def test_manage_check_fails_on_a_bad_key(settings):
    settings.RESYNC_ENCRYPTION_KEYS = ["garbage"]

    with pytest.raises(CommandError, match=r"security\.E001"):
        call_command("check")


@pytest.fixture
def lost_key(db, settings) -> str:
    """Save a connection, then drop the key that encrypted its password; returns that key."""
    key = settings.RESYNC_ENCRYPTION_KEYS[0]
    connection = HwaConnection(base_url="https://hwa.example.com/twsd", username="resync")
    hwa_connection_save(connection=connection, actor=None, source="system", password=PASSWORD)
    settings.RESYNC_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    return key


def test_a_value_no_key_opens_loads_and_fails_only_when_used(lost_key):
    loaded = HwaConnection.objects.get()

    assert isinstance(loaded.password, UnreadableSecret)
    with pytest.raises(SecretUnreadableError) as failure:
        plaintext(loaded.password, what="The password")
    message = str(failure.value)
    assert "\n" not in message
    assert re.match(
        r"The password cannot be decrypted: it was encrypted on \d{4}-\d\d-\d\d \d\d:\d\d UTC "
        r"with a key that is not among the 1 key\(s\) of RESYNC_ENCRYPTION_KEYS",
        message,
    )


def test_saving_a_row_keeps_the_value_the_lost_key_reopens(lost_key, settings):
    loaded = HwaConnection.objects.get()
    loaded.page_size = 77
    hwa_connection_save(connection=loaded, actor=None, source="system")

    settings.RESYNC_ENCRYPTION_KEYS = [*settings.RESYNC_ENCRYPTION_KEYS, lost_key]

    assert HwaConnection.objects.get().password == PASSWORD


def test_a_new_value_replaces_one_no_key_opens(lost_key):
    loaded = HwaConnection.objects.get()
    hwa_connection_save(connection=loaded, actor=None, source="system", password="new")

    assert HwaConnection.objects.get().password == "new"


def test_rotation_stops_on_a_value_no_key_opens_and_changes_nothing(lost_key, settings):
    with pytest.raises(CommandError) as failure:
        call_command("rotate_encryption_keys", verbosity=0)

    message = str(failure.value)
    assert message.startswith("Nothing re-encrypted: core.HwaConnection.password of row ")
    assert "\n" not in message
    settings.RESYNC_ENCRYPTION_KEYS = [lost_key]
    assert HwaConnection.objects.get().password == PASSWORD


def test_encrypting_with_a_bad_key_names_it(settings):
    settings.RESYNC_ENCRYPTION_KEYS = ["garbage"]

    with pytest.raises(ImproperlyConfigured, match=re.escape(BAD_KEY.format(position=1, count=1))):
        encrypt("x")
