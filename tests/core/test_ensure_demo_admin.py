from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = StringIO()
    call_command("ensure_demo_admin", stdout=out)
    return out.getvalue()


def test_it_creates_a_superuser_with_the_locally_kept_password_and_prints_it_once():
    password = settings.LOCAL_SECRETS["DEMO_ADMIN_PASSWORD"]
    first = _run()
    assert password in first
    user = authenticate(username="admin", password=password)
    assert user is not None
    assert user.is_superuser
    second = _run()
    assert password not in second
    assert "exists" in second
