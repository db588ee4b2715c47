from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from apps.core.management.commands.ensure_demo_admin import ADMIN_NOT_IN_FILE, EXISTS

pytestmark = pytest.mark.django_db


def _run() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ensure_demo_admin", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_creates_a_superuser_with_the_locally_kept_password_and_prints_it_once():
    password = settings.LOCAL_SECRETS["DEMO_ADMIN_PASSWORD"]
    first, _ = _run()
    assert password in first
    user = authenticate(username="admin", password=password)
    assert user is not None
    assert user.is_superuser
    second, _ = _run()
    assert password not in second
    assert second.strip() == EXISTS.format(username="admin", file=settings.LOCAL_SECRETS_FILE)


def test_it_says_so_when_the_admins_password_is_not_the_one_in_the_file():
    # As after deleting the local file: the user stays, the file has a new password.
    get_user_model().objects.create_superuser(username="admin", password="from-an-old-file")

    out, err = _run()

    assert out == ""
    file = settings.LOCAL_SECRETS_FILE
    assert err.strip() == ADMIN_NOT_IN_FILE.format(username="admin", file=file)
    assert authenticate(username="admin", password="from-an-old-file") is not None
