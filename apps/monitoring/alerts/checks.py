"""System checks for alert notifications (`manage.py check`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

BAD_ALERT_ADDRESS = "RESYNC_ALERT_EMAIL_TO: {address!r} is not an email address."
BAD_ALERT_ADDRESS_HINT = "Comma-separated addresses, e.g. ops@example.com,oncall@example.com."
CONSOLE_EMAIL = "Alert emails go to {backend} in production: nobody will receive them."
CONSOLE_EMAIL_HINT = (
    "Set DJANGO_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST."
)
UNDELIVERED_BACKENDS = ("console", "dummy", "locmem", "filebased")


@register()
def alert_email_check(app_configs=None, **kwargs) -> list[Error | Warning]:
    """monitoring.E001: every RESYNC_ALERT_EMAIL_TO entry is an address; monitoring.W001: in
    production, alert emails reach a real mail server."""
    problems: list[Error | Warning] = []
    for address in settings.RESYNC_ALERT_EMAIL_TO:
        try:
            validate_email(address)
        except ValidationError:
            problems.append(
                Error(
                    BAD_ALERT_ADDRESS.format(address=address),
                    hint=BAD_ALERT_ADDRESS_HINT,
                    id="monitoring.E001",
                )
            )
    backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2] if "." in settings.EMAIL_BACKEND else ""
    if settings.PRODUCTION and settings.RESYNC_ALERT_EMAIL_TO and backend in UNDELIVERED_BACKENDS:
        problems.append(
            Warning(
                CONSOLE_EMAIL.format(backend=settings.EMAIL_BACKEND),
                hint=CONSOLE_EMAIL_HINT,
                id="monitoring.W001",
            )
        )
    return problems
