"""The JWT settings checks (security.E201-E203) and the CSP checks (E301, W301)."""

from __future__ import annotations

from datetime import timedelta

from apps.security.checks import (
    CSP_REPORT_ONLY,
    CSP_UNSAFE,
    LEEWAY_TOO_WIDE,
    LIFECYCLE_OFF,
    MAX_LEEWAY_SECONDS,
    WRONG_ALGORITHM,
    check_content_security_policy,
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


def test_the_shipped_policy_passes_the_check():
    assert check_content_security_policy(None) == []


def test_unsafe_inline_in_any_directive_is_an_error(settings):
    policy = settings.CONTENT_SECURITY_POLICY
    directives = {**policy["DIRECTIVES"], "style-src": ["'self'", "'unsafe-inline'"]}
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}

    assert [(p.id, p.msg) for p in check_content_security_policy(None)] == [
        ("security.E301", CSP_UNSAFE.format(directive="style-src", source="'unsafe-inline'"))
    ]


def test_report_only_is_a_warning(settings):
    settings.RESYNC_CSP_REPORT_ONLY = True

    assert [(p.id, p.msg) for p in check_content_security_policy(None)] == [
        ("security.W301", CSP_REPORT_ONLY)
    ]
