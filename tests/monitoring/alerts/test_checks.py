"""System checks of the alert settings."""

from __future__ import annotations

from apps.monitoring.alerts.checks import BAD_ALERT_ADDRESS, alert_email_check


def test_the_shipped_settings_pass():
    assert alert_email_check() == []


def test_an_alert_address_that_is_none_is_an_error(settings):
    settings.RESYNC_ALERT_EMAIL_TO = ["ops@example.com", "ops at example"]

    (problem,) = alert_email_check()

    assert problem.id == "monitoring.E001"
    assert problem.msg == BAD_ALERT_ADDRESS.format(address="ops at example")


def test_alert_emails_printed_on_a_production_console_are_a_warning(settings):
    settings.PRODUCTION = True
    settings.RESYNC_ALERT_EMAIL_TO = ["ops@example.com"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

    assert [problem.id for problem in alert_email_check()] == ["monitoring.W001"]

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert alert_email_check() == []
