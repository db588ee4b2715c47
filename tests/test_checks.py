from __future__ import annotations

from io import StringIO

from django.core.management import call_command


def test_manage_check_is_clean():
    out = StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()
