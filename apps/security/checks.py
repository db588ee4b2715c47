"""System checks for the JWT settings: the lifecycle this app relies on must stay switched on.

Ids security.E2xx (Django's own checks use security.W0xx and E1xx).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.checks import Error, Tags, register

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
