"""The alert admin: rules and webhook channels for administrators (validated, audited, the
secret write-only and encrypted), alerts and notifications for monitoring readers, and
"Send a test notification" against a real receiver."""

from __future__ import annotations

import pytest
from django.db import connection as db_connection
from django.urls import reverse

from apps.monitoring.alerts.admin import TEST_FAILED, TEST_NOWHERE, TEST_SENT
from apps.monitoring.alerts.models import (
    NO_SCOPE,
    NOT_AN_ADDRESS,
    PERCENT_RANGE,
    POOL_SCOPE,
    AlertRule,
    WebhookChannel,
)
from apps.monitoring.models import AuditEvent
from tests.monitoring.alerts.conftest import SECRET, make_rule

pytestmark = pytest.mark.django_db
RULES = "/admin/monitoring/alertrule/"
CHANNELS = "/admin/monitoring/webhookchannel/"


def _rule_form(**changes) -> dict:
    values = {
        "name": "Slow jobs list",
        "enabled": "on",
        "metric": "response_time_p95",
        "scope": "/api/v1/jobs/",
        "comparison": ">",
        "threshold": "0.5",
        "window_s": "300",
        "min_samples": "20",
        "severity": "warning",
        "cooldown_s": "900",
        "email_recipients": "",
        "note": "",
    }
    values.update(changes)
    return values


@pytest.fixture
def admin(client, administrator):
    client.force_login(administrator)
    return client


def test_an_administrator_adds_a_rule_and_it_is_audited(admin):
    assert admin.post(RULES + "add/", _rule_form()).status_code == 302

    rule = AlertRule.objects.get(name="Slow jobs list")
    assert (rule.metric, rule.scope, rule.threshold) == ("response_time_p95", "/api/v1/jobs/", 0.5)
    event = AuditEvent.objects.get(action="alert_rule.create")
    assert event.target == "alert_rule:Slow jobs list"
    assert event.after["threshold"] == 0.5


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"metric": "error_rate", "threshold": "150"}, "threshold", PERCENT_RANGE),
        ({"metric": "pool_waiting", "scope": "mongo"}, "scope", POOL_SCOPE),
        ({"metric": "jobs_in_error", "scope": "/api/"}, "scope", NO_SCOPE),
        (
            {"email_recipients": "ops@example.com, not-an-address"},
            "email_recipients",
            NOT_AN_ADDRESS.format(address="not-an-address"),
        ),
        ({"window_s": "5"}, "window_s", None),
    ],
)
def test_a_rule_that_makes_no_sense_is_a_form_error(admin, changes, field, message):
    page = admin.post(RULES + "add/", _rule_form(**changes))

    assert page.status_code == 200
    errors = page.context["adminform"].form.errors
    assert field in errors
    if message is not None:
        assert errors[field] == [message]
    assert not AlertRule.objects.filter(name="Slow jobs list").exists()


def test_every_metric_has_its_unit_in_the_form(admin):
    page = admin.get(RULES + "add/")

    text = page.content.decode()
    assert "Response time, 95th percentile (seconds)" in text
    assert "Error rate: share of 5xx responses (%)" in text
    assert "percent (error rate, cache hit rate: 5 means 5 %)" in text


def test_a_channel_is_added_with_its_secret_encrypted_and_never_shown(admin, receiver):
    form = {"name": "pager", "enabled": "on", "url": receiver.url, "min_severity": "critical"}
    form |= {"timeout_s": "5", "new_secret": SECRET}

    assert admin.post(CHANNELS + "add/", form).status_code == 302

    channel = WebhookChannel.objects.get()
    assert channel.secret == SECRET
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM monitoring_webhookchannel")
        stored = cursor.fetchone()[0]
    assert SECRET not in stored
    assert SECRET not in admin.get(CHANNELS + f"{channel.pk}/change/").content.decode()
    event = AuditEvent.objects.get(action="webhook_channel.create")
    assert event.detail == "secret changed"
    assert SECRET not in str(event.after)


def test_a_channel_needs_a_secret_and_an_http_url(admin):
    form = {"name": "pager", "enabled": "on", "url": "ftp://example.com/hook"}
    form |= {"min_severity": "info", "timeout_s": "5"}

    page = admin.post(CHANNELS + "add/", form)

    errors = page.context["adminform"].form.errors
    assert set(errors) == {"url", "new_secret"}
    assert not WebhookChannel.objects.exists()


def test_saving_a_channel_without_a_new_secret_keeps_the_old_one(admin, channel):
    form = {"name": channel.name, "enabled": "on", "url": channel.url}
    form |= {"min_severity": "warning", "timeout_s": "2"}

    assert admin.post(CHANNELS + f"{channel.pk}/change/", form).status_code == 302

    channel.refresh_from_db()
    assert (channel.secret, channel.min_severity, channel.timeout_s) == (SECRET, "warning", 2)


def test_send_test_notification_reaches_the_receiver_and_says_so(admin, channel, receiver):
    page = admin.post(
        CHANNELS,
        {"action": "send_test_notification", "_selected_action": [channel.pk]},
        follow=True,
    )

    assert receiver.events() == ["test"]
    shown = [str(m) for m in page.context["messages"]]
    assert shown == [TEST_SENT.format(name=channel.name, target=receiver.url)]


def test_a_failed_test_notification_shows_the_receivers_answer(admin, channel, receiver):
    receiver.status = 500
    rule = make_rule(name="Slow")

    page = admin.post(
        RULES, {"action": "send_test_notification", "_selected_action": [rule.pk]}, follow=True
    )

    error = "HTTP 500 from the receiver: receiver says no"
    shown = [str(m) for m in page.context["messages"]]
    assert shown == [TEST_FAILED.format(name="Slow", target=receiver.url, error=error)]


def test_a_test_notification_with_nowhere_to_go_says_so(admin, settings):
    settings.RESYNC_ALERT_EMAIL_TO = []
    rule = make_rule(name="Lonely")

    page = admin.post(
        RULES, {"action": "send_test_notification", "_selected_action": [rule.pk]}, follow=True
    )

    assert [str(m) for m in page.context["messages"]] == [TEST_NOWHERE.format(name="Lonely")]


def test_deleting_a_rule_is_audited(admin):
    rule = make_rule(name="Doomed")

    page = admin.post(RULES + f"{rule.pk}/delete/", {"post": "yes"})

    assert page.status_code == 302
    assert not AlertRule.objects.filter(name="Doomed").exists()
    assert AuditEvent.objects.get(action="alert_rule.delete").target == "alert_rule:Doomed"


@pytest.mark.parametrize(
    ("persona", "rules", "alerts"),
    [("administrator", 200, 200), ("auditor", 403, 200), ("viewer", 302, 302)],
)
def test_who_sees_which_page(client, request, persona, rules, alerts):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(RULES).status_code == rules
    assert client.get(reverse("admin:monitoring_alert_changelist")).status_code == alerts
    assert client.get(reverse("admin:monitoring_notification_changelist")).status_code == alerts


def test_nobody_edits_alerts_or_notifications_by_hand(admin):
    assert admin.get(reverse("admin:monitoring_alert_add")).status_code == 403
    assert admin.get(reverse("admin:monitoring_notification_add")).status_code == 403
