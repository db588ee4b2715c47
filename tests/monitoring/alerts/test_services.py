"""Evaluation passes: alerts open once, stay open, resolve; notifications go out once per
transition, respect the cooldown, and are retried against a real HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from apps.core.models import Job
from apps.monitoring.alerts import measures
from apps.monitoring.alerts.models import Alert, Notification, WebhookChannel
from apps.monitoring.alerts.notify import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER
from apps.monitoring.alerts.services import (
    alert_rule_save,
    alerts_evaluate,
    notification_test,
    notifications_deliver,
)
from apps.monitoring.metrics import definitions
from apps.monitoring.models import AuditEvent
from tests.factories import JobFactory
from tests.monitoring.alerts.conftest import SECRET, make_rule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_default_rules")]
# Passes run at T0 + n seconds: later than any rule made by a test (rules are due when made).
T0 = (timezone.now() + timedelta(hours=1)).replace(microsecond=0)


def _at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def _pass(seconds: float):
    return alerts_evaluate(now=_at(seconds), interval_s=15)


def _set_error_jobs(count: int) -> None:
    Job.objects.all().delete()
    for _ in range(count):
        JobFactory(internal_state="ABEND")


def _signed_by_secret(request) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers[SIGNATURE_HEADER], expected)


# --- one alert, one open, one resolve -----------------------------------------------------------


def test_an_alert_opens_once_notifies_once_resolves_and_notifies_once(
    receiver, channel, mailoutbox, settings
):
    settings.RESYNC_ALERT_EMAIL_TO = ["ops@example.com"]
    rule = make_rule(name="Jobs in Error", severity="critical", note="Look at the plan.")
    _set_error_jobs(2)

    opened = _pass(0)
    still = _pass(20)
    _set_error_jobs(0)
    resolved = _pass(40)
    quiet = _pass(60)

    assert (opened.opened, opened.sent) == (1, 2)  # the webhook and the email
    assert (still.opened, still.sent, still.resolved) == (0, 0, 0)
    assert (resolved.resolved, resolved.sent) == (1, 2)
    assert (quiet.opened, quiet.resolved, quiet.sent) == (0, 0, 0)
    alert = Alert.objects.get()
    assert (alert.state, alert.value, alert.last_value) == ("resolved", 2, 0)
    assert (alert.opened_at, alert.resolved_at) == (_at(0), _at(40))
    assert alert.summary == "2 jobs in Error (threshold > 0)"
    assert receiver.events() == ["open", "resolve"]
    for request in receiver.requests:
        assert _signed_by_secret(request)
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers[EVENT_HEADER] == request.json()["event"]
    open_body = receiver.requests[0].json()
    assert open_body["alert"]["rule"] == "Jobs in Error"
    assert open_body["alert"]["condition"] == "jobs_in_error > 0"
    assert open_body["alert"]["note"] == "Look at the plan."
    assert receiver.requests[1].json()["alert"]["state"] == "resolved"
    assert [m.subject for m in mailoutbox] == [
        "[Resync critical] OPEN: Jobs in Error",
        "[Resync critical] RESOLVED: Jobs in Error",
    ]
    assert mailoutbox[0].to == ["ops@example.com"]
    assert "2 jobs in Error" in mailoutbox[0].body
    assert rule.alerts.count() == 1


def test_the_delivery_header_names_the_notification(receiver, channel):
    make_rule()
    _set_error_jobs(1)

    _pass(0)

    notification = Notification.objects.get()
    assert receiver.requests[0].headers[DELIVERY_HEADER] == str(notification.pk)
    assert (notification.status, notification.attempts) == ("sent", 1)


def test_a_rules_own_recipients_win_over_the_setting(mailoutbox, settings):
    settings.RESYNC_ALERT_EMAIL_TO = ["ops@example.com"]
    make_rule(email_recipients="dba@example.com, oncall@example.com")
    _set_error_jobs(1)

    _pass(0)

    assert [m.to for m in mailoutbox] == [["dba@example.com", "oncall@example.com"]]


def test_a_channel_gets_only_alerts_at_or_above_its_minimum_severity(receiver, channel):
    channel.min_severity = "critical"
    channel.save()
    make_rule(name="minor", severity="warning")
    _set_error_jobs(1)

    summary = _pass(0)

    assert summary.opened == 1
    assert receiver.requests == []
    assert not Notification.objects.exists()


# --- no data, claims, failures ------------------------------------------------------------------


def test_no_data_neither_opens_nor_resolves(receiver, channel):
    route = "/test/alerts/no-data/"
    make_rule(metric="response_time_p95", scope=route, threshold=1.0, min_samples=10)

    first = _pass(0)  # no baseline yet
    for _ in range(10):
        definitions.HTTP_DURATION.labels(route, "GET").observe(4.0)
    opened = _pass(20)
    # Ten minutes on, the slow requests left the window and none came: no data.
    quiet = _pass(620)

    assert (first.opened, opened.opened, quiet.resolved) == (0, 1, 0)
    alert = Alert.objects.get()
    assert alert.state == "open"
    assert alert.rule.last_value is None
    assert "fewer than the 10 needed" in alert.rule.last_detail


def test_a_claimed_rule_is_not_evaluated_again_within_the_interval():
    make_rule()

    assert _pass(0).evaluated == 1
    assert _pass(5).evaluated == 0  # another worker's pass, or this one too early
    assert _pass(16).evaluated == 1


def test_a_disabled_rule_is_not_evaluated():
    make_rule(enabled=False)
    _set_error_jobs(1)

    assert _pass(0).evaluated == 0
    assert not Alert.objects.exists()


def test_a_rule_that_fails_is_recorded_and_the_others_still_run(monkeypatch, caplog):
    def broken(rule, context):
        raise RuntimeError("the source is gone")

    monkeypatch.setitem(measures.MEASURES, "sync_age", broken)
    failing = make_rule(name="broken", metric="sync_age", threshold=1)
    make_rule(name="fine")
    _set_error_jobs(1)

    summary = _pass(0)
    again = _pass(20)

    assert summary.errors == again.errors == ["broken: the source is gone"]
    assert summary.opened == 1
    failing.refresh_from_db()
    assert failing.last_error == "RuntimeError: the source is gone"
    # Logged when it starts failing, not at every pass.
    assert [r.message for r in caplog.records if "could not be evaluated" in r.message] == [
        "Alert rule 'broken' could not be evaluated: the source is gone"
    ]


def test_one_open_alert_per_rule_is_enforced_by_the_database():
    rule = make_rule()
    _set_error_jobs(1)
    _pass(0)
    alert = Alert.objects.get()

    with pytest.raises(IntegrityError):
        Alert.objects.create(
            rule=rule,
            rule_name=rule.name,
            metric=rule.metric,
            comparison=">",
            threshold=0,
            severity="info",
            value=1,
            summary="a second one",
        )
    assert alert.state == "open"


# --- cooldown -----------------------------------------------------------------------------------


def test_a_flapping_rule_notifies_once_per_cooldown(receiver, channel):
    make_rule(cooldown_s=600)

    _set_error_jobs(1)
    _pass(0)  # opens: notified
    _set_error_jobs(0)
    _pass(20)  # resolves: notified (its opening was)
    _set_error_jobs(1)
    _pass(40)  # opens again within the cooldown: not notified
    _set_error_jobs(0)
    _pass(60)  # resolves: not notified either (nobody heard it open)
    _set_error_jobs(1)
    _pass(80)  # opens a third time, within the cooldown
    _pass(600)  # still within it (last notified at 0 s + 600 s is now: over)
    _pass(700)

    assert receiver.events() == ["open", "resolve", "open"]
    notified = list(Alert.objects.order_by("opened_at").values_list("notified", flat=True))
    assert notified == [True, False, True]


def test_an_alert_that_opened_in_the_cooldown_is_notified_when_it_ends(receiver, channel):
    make_rule(cooldown_s=300)
    _set_error_jobs(1)
    _pass(0)
    _set_error_jobs(0)
    _pass(20)
    _set_error_jobs(3)
    _pass(40)
    assert receiver.events() == ["open", "resolve"]

    _pass(310)

    assert receiver.events() == ["open", "resolve", "open"]
    assert receiver.requests[-1].json()["alert"]["last_value"] == 3


# --- retries ------------------------------------------------------------------------------------


def test_a_failing_receiver_gets_retries_with_backoff_then_the_failure_is_recorded(
    receiver, channel, settings
):
    settings.RESYNC_ALERT_NOTIFY_ATTEMPTS = 3
    settings.RESYNC_ALERT_RETRY_SECONDS = 10
    receiver.status = 500
    make_rule()
    _set_error_jobs(1)

    first = _pass(0)
    notification = Notification.objects.get()
    assert (first.sent, first.retrying) == (0, 1)
    assert (notification.status, notification.attempts) == ("pending", 1)
    assert notification.last_error == "HTTP 500 from the receiver: receiver says no"
    assert notification.next_attempt_at == _at(10)

    assert notifications_deliver(now=_at(9)).retrying == 0  # not due yet
    assert notifications_deliver(now=_at(10)).retrying == 1
    notification.refresh_from_db()
    assert notification.next_attempt_at == _at(30)  # 10 s, then 20 s: doubling
    last = notifications_deliver(now=_at(30))

    notification.refresh_from_db()
    assert last.failed == 1
    assert (notification.status, notification.attempts) == ("failed", 3)
    assert notification.next_attempt_at is None
    assert len(receiver.requests) == 3
    # Every retry is the same delivery: same id, same body, same signature.
    assert len({r.headers[DELIVERY_HEADER] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    assert all(_signed_by_secret(r) for r in receiver.requests)


def test_a_receiver_that_comes_back_gets_the_notification_on_a_retry(receiver, channel, settings):
    settings.RESYNC_ALERT_RETRY_SECONDS = 10
    receiver.status = 503
    make_rule()
    _set_error_jobs(1)
    _pass(0)

    receiver.status = 200
    summary = notifications_deliver(now=_at(10))

    notification = Notification.objects.get()
    assert summary.sent == 1
    assert (notification.status, notification.attempts, notification.sent_at is not None) == (
        "sent",
        2,
        True,
    )


def test_an_unreachable_receiver_is_a_failed_attempt_with_the_reason():
    closed = "http://127.0.0.1:9/hook"  # the discard port: nothing listens on loopback
    WebhookChannel.objects.create(name="nowhere", url=closed, secret=SECRET, timeout_s=1)
    make_rule()
    _set_error_jobs(1)

    summary = _pass(0)

    notification = Notification.objects.get()
    assert summary.retrying == 1
    assert notification.last_error.startswith("ConnectError")


# --- test notifications, rule changes -----------------------------------------------------------


def test_a_test_notification_reaches_every_destination_of_a_rule(
    receiver, channel, mailoutbox, settings
):
    settings.RESYNC_ALERT_EMAIL_TO = ["ops@example.com"]
    rule = make_rule(name="Slow")

    sent = notification_test(rule=rule)

    assert [(n.channel, n.status) for n in sent] == [("webhook", "sent"), ("email", "sent")]
    assert receiver.events() == ["test"]
    assert _signed_by_secret(receiver.requests[0])
    assert receiver.requests[0].json()["rule"] == "Slow"
    assert mailoutbox[0].subject == "[Resync] TEST: test notification"


def test_a_failed_test_notification_is_tried_once_and_says_why(receiver, channel):
    receiver.status = 404

    (sent,) = notification_test(channel=channel)

    assert (sent.status, sent.attempts) == ("failed", 1)
    assert sent.last_error.startswith("HTTP 404")
    assert len(receiver.requests) == 1


def test_disabling_a_rule_resolves_its_open_alert_and_says_so(receiver, channel, administrator):
    rule = make_rule()
    _set_error_jobs(1)
    _pass(0)

    rule.enabled = False
    alert_rule_save(rule=rule, actor=administrator, source="admin")
    notifications_deliver()

    alert = Alert.objects.get()
    assert alert.state == "resolved"
    assert alert.summary.endswith("(the rule was disabled)")
    assert receiver.events() == ["open", "resolve"]


def test_changing_what_a_rule_measures_starts_its_window_afresh_and_is_audited(administrator):
    rule = make_rule(metric="pool_exhaustions", threshold=0)
    _pass(0)
    rule.refresh_from_db()
    assert rule.window_samples

    rule.scope = "database"
    rule.threshold = 3
    alert_rule_save(rule=rule, actor=administrator, source="admin")

    rule.refresh_from_db()
    assert rule.window_samples == []
    event = AuditEvent.objects.get(action="alert_rule.update")
    assert event.target == "alert_rule:test rule"
    assert event.before == {"scope": "", "threshold": 0.0}
    assert event.after == {"scope": "database", "threshold": 3}
