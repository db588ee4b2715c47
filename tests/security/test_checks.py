"""The JWT settings checks (security.E201-E203)."""

from __future__ import annotations

from datetime import timedelta

from apps.security.checks import (
    LEEWAY_TOO_WIDE,
    LIFECYCLE_OFF,
    MAX_LEEWAY_SECONDS,
    WRONG_ALGORITHM,
    check_jwt_settings,
)


def _with(settings, **changes) -> list[str]:
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, **changes}
    return [error.msg for error in check_jwt_settings(None)]


def test_the_shipped_settings_pass():
    assert check_jwt_settings(None) == []


def test_another_algorithm_is_an_error(settings):
    assert _with(settings, ALGORITHM="HS512") == [WRONG_ALGORITHM.format(value="HS512")]


def test_a_wide_leeway_is_an_error_in_seconds_or_as_a_timedelta(settings):
    too_wide = LEEWAY_TOO_WIDE.format(value=120.0, limit=MAX_LEEWAY_SECONDS)
    assert _with(settings, LEEWAY=120) == [too_wide]
    assert _with(settings, LEEWAY=timedelta(minutes=2)) == [too_wide]
    assert _with(settings, LEEWAY=MAX_LEEWAY_SECONDS) == []


def test_turning_off_rotation_or_revocation_is_an_error(settings):
    assert _with(settings, BLACKLIST_AFTER_ROTATION=False) == [
        LIFECYCLE_OFF.format(name="BLACKLIST_AFTER_ROTATION", expected=True)
    ]
