"""System checks for CORS: the environment's origins must be origins, and nothing in the
settings may allow origins past the admin-managed list.

Ids security.E310-E311 (security.E2xx are the JWT checks).
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ValidationError

from apps.security.cors.models import origin_normalize

SEED_NOT_AN_ORIGIN = "CORS_ALLOWED_ORIGINS: {value!r} is not an origin ({reason})"
SEED_HINT = "Write each as scheme://host[:port], e.g. https://ops.example.com, comma-separated."
STATIC_LIST = "{name} is set: it would allow origins the admin can neither see nor revoke."
STATIC_HINT = "Leave it unset; add origins in the admin (Security > CORS origins) or the API."
# django-cors-headers' settings (and their old names) that allow origins by themselves.
BYPASSING_SETTINGS = (
    "CORS_ALLOW_ALL_ORIGINS",
    "CORS_ORIGIN_ALLOW_ALL",
    "CORS_ALLOWED_ORIGINS",
    "CORS_ORIGIN_WHITELIST",
    "CORS_ALLOWED_ORIGIN_REGEXES",
    "CORS_ORIGIN_REGEX_WHITELIST",
)


@register(Tags.security)
def check_cors_settings(app_configs, **kwargs) -> list[Error]:
    errors = []
    for value in settings.RESYNC_CORS_SEED_ORIGINS:
        try:
            origin_normalize(value)
        except ValidationError as exc:
            message = SEED_NOT_AN_ORIGIN.format(value=value, reason=exc.messages[0])
            errors.append(Error(message, hint=SEED_HINT, id="security.E310"))
    for name in BYPASSING_SETTINGS:
        if getattr(settings, name, None):
            message = STATIC_LIST.format(name=name)
            errors.append(Error(message, hint=STATIC_HINT, id="security.E311"))
    return errors
