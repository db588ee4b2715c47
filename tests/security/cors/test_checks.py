"""System checks: CORS_ALLOWED_ORIGINS must list origins, and no static setting may allow
origins past the admin-managed list."""

from __future__ import annotations

import pytest

from apps.security.cors.checks import STATIC_LIST, check_cors_settings
from apps.security.cors.models import HAS_PATH


def test_the_default_settings_pass():
    assert check_cors_settings(None) == []


def test_a_seed_entry_that_is_not_an_origin_is_an_error_naming_it(settings):
    settings.RESYNC_CORS_SEED_ORIGINS = ["https://ops.example.com", "https://ops.example.com/app"]
    [error] = check_cors_settings(None)
    assert error.id == "security.E310"
    assert "'https://ops.example.com/app'" in error.msg
    assert HAS_PATH in error.msg


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CORS_ALLOW_ALL_ORIGINS", True),
        ("CORS_ALLOWED_ORIGINS", ["https://ops.example.com"]),
        ("CORS_ALLOWED_ORIGIN_REGEXES", [r"^https://.*$"]),
    ],
)
def test_a_static_allow_list_in_the_settings_is_an_error(settings, name, value):
    setattr(settings, name, value)
    [error] = check_cors_settings(None)
    assert (error.id, error.msg) == ("security.E311", STATIC_LIST.format(name=name))
