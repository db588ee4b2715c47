"""System checks for the JWT settings (the lifecycle this app relies on must stay switched on)
and for the Content Security Policy (nothing inline may be allowed wholesale).

Ids security.E2xx and E3xx/W3xx (Django's own checks use security.W0xx and E1xx).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

JWT_ALGORITHM = "HS256"
MAX_LEEWAY_SECONDS = 60
# The settings apps/security/tokens.py and services.py depend on, with the value they need.
REQUIRED_JWT_SETTINGS = {
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "CHECK_REVOKE_TOKEN": True,
}

WRONG_ALGORITHM = "SIMPLE_JWT['ALGORITHM'] is {value!r}; Resync signs tokens with HS256 only."
LEEWAY_TOO_WIDE = "The JWT clock-skew leeway is {value} s, more than {limit} s."
LEEWAY_HINT = "Lower JWT_LEEWAY_SECONDS; synchronise the clocks (NTP) instead."
LIFECYCLE_OFF = "SIMPLE_JWT[{name!r}] must be {expected}: refresh rotation and revocation need it."


def _seconds(leeway) -> float:
    return leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway or 0)


@register(Tags.security)
def check_jwt_settings(app_configs, **kwargs) -> list[Error]:
    jwt = settings.SIMPLE_JWT
    errors = []
    if jwt.get("ALGORITHM", JWT_ALGORITHM) != JWT_ALGORITHM:
        errors.append(Error(WRONG_ALGORITHM.format(value=jwt["ALGORITHM"]), id="security.E201"))
    leeway = _seconds(jwt.get("LEEWAY"))
    if leeway > MAX_LEEWAY_SECONDS:
        message = LEEWAY_TOO_WIDE.format(value=leeway, limit=MAX_LEEWAY_SECONDS)
        errors.append(Error(message, hint=LEEWAY_HINT, id="security.E202"))
    for name, expected in REQUIRED_JWT_SETTINGS.items():
        if jwt.get(name) is not expected:
            message = LIFECYCLE_OFF.format(name=name, expected=expected)
            errors.append(Error(message, id="security.E203"))
    return errors


# Sources that would let injected markup run or style: pages use nonces or static files.
UNSAFE_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'")
CSP_UNSAFE = "CSP directive {directive} allows {source}."
CSP_UNSAFE_HINT = (
    "Move the inline script or style into a static file, or give its element the response's "
    "nonce (request.csp_nonce) and keep the NONCE source in the directive."
)
CSP_REPORT_ONLY = (
    "The Content Security Policy is report-only: violations are reported, not refused."
)
CSP_REPORT_ONLY_HINT = "Unset RESYNC_CSP_REPORT_ONLY once the reports show no violations."


def _csp_directives() -> Iterator[tuple[str, list]]:
    for setting in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
        policy = getattr(settings, setting, None) or {}
        for directive, sources in (policy.get("DIRECTIVES") or {}).items():
            yield directive, [sources] if isinstance(sources, str) else list(sources or ())


@register(Tags.security)
def check_content_security_policy(app_configs, **kwargs) -> list[Error | Warning]:
    problems: list[Error | Warning] = []
    for directive, sources in _csp_directives():
        for source in UNSAFE_SOURCES:
            if source in sources:
                message = CSP_UNSAFE.format(directive=directive, source=source)
                problems.append(Error(message, hint=CSP_UNSAFE_HINT, id="security.E301"))
    if getattr(settings, "RESYNC_CSP_REPORT_ONLY", False):
        problems.append(Warning(CSP_REPORT_ONLY, hint=CSP_REPORT_ONLY_HINT, id="security.W301"))
    return problems
