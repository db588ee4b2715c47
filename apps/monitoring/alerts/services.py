"""Alert writes: evaluating rules, opening and resolving alerts, notifying, and the admin's
saves (audited).

One evaluation pass (`alerts_evaluate`) claims each rule that is due with a conditional
UPDATE of its `next_evaluation_at` (only one of several evaluators wins a rule), measures it,
and in one transaction opens or resolves its alert and queues the notifications. A partial
unique index allows one open alert per rule, and a resolve is a conditional UPDATE, so even
two evaluations of one rule that overlap (a pass slower than the interval) open, resolve and
notify once. Notifications are then delivered from the queue, each attempt claimed the
same way, failed attempts retried with exponential backoff up to RESYNC_ALERT_NOTIFY_ATTEMPTS.

Cooldown: an opening is notified only if the rule's previous notified opening is at least
`cooldown_s` old (claimed with a conditional UPDATE of `last_notified_at`). An alert opened
within the cooldown is notified at the first evaluation after it, if still open; one that
resolved within it is never notified, nor its resolution: receivers hear of each alert
either twice (open, resolve) or not at all.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.monitoring.alerts import notify
from apps.monitoring.alerts.measures import Context, Measurement, measure
from apps.monitoring.alerts.models import (
    SEVERITY_RANK,
    UNITS,
    WEBHOOK_SECRET_MIN_LENGTH,
    Alert,
    AlertRule,
    Notification,
    WebhookChannel,
    split_addresses,
)
from apps.monitoring.services import audit_record

logger = logging.getLogger(__name__)

# A claimed attempt is left to its worker this much longer than the webhook timeout; a
# worker that died meanwhile leaves it to the next pass.
ATTEMPT_LEASE_S = 60.0
MAX_BACKOFF_S = 3600.0
DELIVER_BATCH = 100
# A pass stops starting attempts after this long (slow receivers): the rest wait for the next.
DELIVER_BUDGET_S = 20.0
RULE_DISABLED = "the rule was disabled"
OPENED, RESOLVED = "opened", "resolved"
RULE_FIELDS = (
    "name",
    "enabled",
    "metric",
    "scope",
    "comparison",
    "threshold",
    "window_s",
    "min_samples",
    "severity",
    "cooldown_s",
    "email_recipients",
    "note",
)
# Changing what is measured makes the sampled counters meaningless.
MEASURE_FIELDS = ("metric", "scope", "window_s")
CHANNEL_FIELDS = ("name", "enabled", "url", "min_severity", "timeout_s")
SECRET_CHANGED = "secret changed"  # noqa: S105 (an audit note, not a secret)
SECRET_TOO_SHORT = "A webhook secret has at least {n} characters."  # noqa: S105


@dataclass
class PassSummary:
    """What one evaluation pass did."""

    evaluated: int = 0
    opened: int = 0
    resolved: int = 0
    errors: list[str] = field(default_factory=list)
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def line(self) -> str:
        text = (
            f"Alerts: {self.evaluated} rules evaluated, {self.opened} opened, "
            f"{self.resolved} resolved; notifications: {self.sent} sent, "
            f"{self.retrying} to retry, {self.failed} failed"
        )
        return text + (f"; {len(self.errors)} rules failed" if self.errors else "")

    @property
    def eventful(self) -> bool:
        return bool(
            self.opened or self.resolved or self.errors or self.sent or self.failed or self.retrying
        )


# --- evaluation ----------------------------------------------------------------------------


def alerts_evaluate(*, now: datetime | None = None, interval_s: float | None = None) -> PassSummary:
    """One pass: evaluate every enabled rule that is due (and not claimed by another
    evaluator), then deliver the notifications that are due. Next due in `interval_s`
    (default RESYNC_ALERT_INTERVAL)."""
    now = now or timezone.now()
    interval = settings.RESYNC_ALERT_INTERVAL if interval_s is None else interval_s
    summary = PassSummary()
    context = Context(now)
    due = AlertRule.objects.filter(enabled=True, next_evaluation_at__lte=now)
    for rule in due.order_by("next_evaluation_at", "id"):
        if _claim(rule, until=now + timedelta(seconds=interval)):
            _evaluate(rule, context, summary)
    notifications_deliver(now=now, summary=summary)
    return summary


def _claim(rule: AlertRule, *, until: datetime) -> bool:
    """Take the rule's evaluation: only one evaluator's UPDATE matches what it read."""
    claimed = AlertRule.objects.filter(
        pk=rule.pk, enabled=True, next_evaluation_at=rule.next_evaluation_at
    ).update(next_evaluation_at=until)
    return claimed == 1


def _evaluate(rule: AlertRule, context: Context, summary: PassSummary) -> None:
    summary.evaluated += 1
    try:
        measurement = measure(rule, context)
        outcome = _apply(rule, measurement, context.now)
    except Exception as exc:  # one rule's failure must not stop the others
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if error != rule.last_error:  # logged when it starts or changes, not every pass
            logger.warning("Alert rule %r could not be evaluated: %s", rule.name, exc)
        summary.errors.append(f"{rule.name}: {exc}")
        AlertRule.objects.filter(pk=rule.pk).update(last_evaluated_at=context.now, last_error=error)
        return
    if outcome == OPENED:
        summary.opened += 1
    elif outcome == RESOLVED:
        summary.resolved += 1


def holds(rule: AlertRule, value: float) -> bool:
    """Is the rule's condition true of `value`?"""
    return {
        ">": value > rule.threshold,
        ">=": value >= rule.threshold,
        "<": value < rule.threshold,
        "<=": value <= rule.threshold,
    }[rule.comparison]


@transaction.atomic
def _apply(rule: AlertRule, measurement: Measurement, now: datetime) -> str | None:
    """Record the measurement; open, keep or resolve the rule's alert. No value: no change."""
    # Updating the rule's row first also locks it until commit: overlapping evaluations of
    # one rule apply one after the other, each seeing the other's alert (the unique index
    # and the conditional resolve below hold even without it).
    AlertRule.objects.filter(pk=rule.pk).update(
        last_evaluated_at=now,
        last_value=measurement.value,
        last_detail=measurement.detail[:300],
        last_error="",
        window_samples=rule.window_samples,
    )
    if measurement.value is None:
        return None
    alert = Alert.objects.select_for_update().filter(rule=rule, state=Alert.State.OPEN).first()
    if not holds(rule, measurement.value):
        return _resolve(alert, measurement.value, now) if alert is not None else None
    if alert is None:
        return _open(rule, measurement, now)
    Alert.objects.filter(pk=alert.pk).update(last_value=measurement.value, last_evaluated_at=now)
    if not alert.notified:  # opened within the cooldown: notify once it is over
        alert.last_value = measurement.value
        _notify_opening(alert, rule, now)
    return None


def _summary(rule: AlertRule, measurement: Measurement) -> str:
    """What was measured, and the threshold: "7.50 % (15 of 200 ...) (threshold > 5 %)"."""
    unit = UNITS.get(rule.metric, "")
    threshold = f" (threshold {rule.comparison} {rule.threshold:g}{unit})"
    return measurement.detail[: 300 - len(threshold)] + threshold


def _open(rule: AlertRule, measurement: Measurement, now: datetime) -> str | None:
    try:
        with transaction.atomic():  # a savepoint: another evaluator may have opened it
            alert = Alert.objects.create(
                rule=rule,
                rule_name=rule.name,
                metric=rule.metric,
                scope=rule.scope,
                comparison=rule.comparison,
                threshold=rule.threshold,
                severity=rule.severity,
                value=measurement.value,
                last_value=measurement.value,
                summary=_summary(rule, measurement),
                opened_at=now,
                last_evaluated_at=now,
            )
    except IntegrityError:
        return None
    _notify_opening(alert, rule, now)
    return OPENED


def _notify_opening(alert: Alert, rule: AlertRule, now: datetime) -> None:
    """Queue the alert's opening notifications unless the rule is within its cooldown."""
    quiet_since = now - timedelta(seconds=rule.cooldown_s)
    free = AlertRule.objects.filter(pk=rule.pk).filter(
        Q(last_notified_at__isnull=True) | Q(last_notified_at__lte=quiet_since)
    )
    if not free.update(last_notified_at=now):
        return
    Alert.objects.filter(pk=alert.pk).update(notified=True)
    alert.notified = True
    _queue(alert, rule, Notification.Event.OPEN, now)


def _resolve(alert: Alert, value: float | None, now: datetime) -> str | None:
    resolved = Alert.objects.filter(pk=alert.pk, state=Alert.State.OPEN).update(
        state=Alert.State.RESOLVED, resolved_at=now, last_value=value, last_evaluated_at=now
    )
    if not resolved:  # another evaluator resolved it first
        return None
    alert.refresh_from_db()
    if alert.notified:
        _queue(alert, alert.rule, Notification.Event.RESOLVE, now)
    return RESOLVED


# --- notifications ---------------------------------------------------------------------------


def email_recipients(rule: AlertRule | None) -> list[str]:
    """The rule's addresses, else RESYNC_ALERT_EMAIL_TO."""
    own = split_addresses(rule.email_recipients) if rule is not None else []
    return own or list(settings.RESYNC_ALERT_EMAIL_TO)


def webhooks_for(severity: str) -> list[WebhookChannel]:
    """The enabled webhook channels that take alerts of `severity`."""
    rank = SEVERITY_RANK[severity]
    channels = WebhookChannel.objects.filter(enabled=True).order_by("name")
    return [channel for channel in channels if SEVERITY_RANK[channel.min_severity] <= rank]


def _queue(alert: Alert, rule: AlertRule, event: str, now: datetime) -> list[Notification]:
    """One pending notification per destination (due now), in the caller's transaction."""
    payload = notify.alert_payload(alert, event, note=rule.note, sent_at=now.isoformat())
    common = {
        "alert": alert,
        "rule": rule,
        "event": event,
        "payload": payload,
        "max_attempts": settings.RESYNC_ALERT_NOTIFY_ATTEMPTS,
        "next_attempt_at": now,
        "created_at": now,
    }
    rows = [
        Notification(channel=Notification.Channel.WEBHOOK, webhook=channel, target=channel.url)
        for channel in webhooks_for(alert.severity)
    ]
    recipients = email_recipients(rule)
    if recipients:
        rows.append(Notification(channel=Notification.Channel.EMAIL, target=", ".join(recipients)))
    for row in rows:
        for name, value in common.items():
            setattr(row, name, value)
    return Notification.objects.bulk_create(rows)


def backoff_s(attempts: int) -> float:
    """Wait before the next attempt after `attempts` failed ones: doubling from
    RESYNC_ALERT_RETRY_SECONDS, at most an hour."""
    return min(settings.RESYNC_ALERT_RETRY_SECONDS * 2 ** (attempts - 1), MAX_BACKOFF_S)


def notifications_deliver(
    *, now: datetime | None = None, summary: PassSummary | None = None
) -> PassSummary:
    """Make one attempt at every notification that is due (not claimed by another worker),
    for at most DELIVER_BUDGET_S."""
    now = now or timezone.now()
    summary = summary if summary is not None else PassSummary()
    deadline = time.monotonic() + DELIVER_BUDGET_S
    due = Notification.objects.filter(
        status=Notification.Status.PENDING, next_attempt_at__lte=now
    ).select_related("webhook")
    for notification in due.order_by("next_attempt_at", "id")[:DELIVER_BATCH]:
        if time.monotonic() > deadline:
            break
        if _claim_attempt(notification, now):
            outcome = notification_attempt(notification, now=now)
            if outcome == Notification.Status.SENT:
                summary.sent += 1
            elif outcome == Notification.Status.FAILED:
                summary.failed += 1
            else:
                summary.retrying += 1
    return summary


def _claim_attempt(notification: Notification, now: datetime) -> bool:
    lease = now + timedelta(seconds=ATTEMPT_LEASE_S)
    if notification.webhook is not None:
        lease += timedelta(seconds=notification.webhook.timeout_s)
    claimed = Notification.objects.filter(
        pk=notification.pk,
        status=Notification.Status.PENDING,
        next_attempt_at=notification.next_attempt_at,
    ).update(next_attempt_at=lease, attempts=F("attempts") + 1)
    if claimed:
        notification.attempts += 1
    return claimed == 1


def notification_attempt(notification: Notification, *, now: datetime) -> str:
    """Send a claimed notification once and record the outcome; returns its status."""
    try:
        notify.send(notification)
    except Exception as exc:  # whatever went wrong is the attempt's outcome, not a crash
        return _attempt_failed(notification, now, str(exc) or type(exc).__name__)
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.SENT, sent_at=timezone.now(), next_attempt_at=None
    )
    notification.status = Notification.Status.SENT
    return notification.status


def _attempt_failed(notification: Notification, now: datetime, error: str) -> str:
    logger.warning(
        "Notification %s (%s to %s) attempt %s failed: %s",
        notification.pk,
        notification.event,
        notification.target,
        notification.attempts,
        error,
    )
    if notification.attempts >= notification.max_attempts:
        status, retry_at = Notification.Status.FAILED, None
    else:
        status = Notification.Status.PENDING
        retry_at = now + timedelta(seconds=backoff_s(notification.attempts))
    Notification.objects.filter(pk=notification.pk).update(
        status=status, next_attempt_at=retry_at, last_error=error[:2000]
    )
    notification.status, notification.last_error = status, error
    return status


def notification_test(
    *, rule: AlertRule | None = None, channel: WebhookChannel | None = None
) -> list[Notification]:
    """Send a test message now, once, and return the notifications with their outcome: to
    `channel` (even a disabled one), or to every destination of `rule` (its email
    recipients, the enabled webhook channels that take its severity)."""
    now = timezone.now()
    payload = notify.test_payload(rule=rule, sent_at=now.isoformat())
    channels = [channel] if channel is not None else webhooks_for(rule.severity)
    rows = [
        Notification(channel=Notification.Channel.WEBHOOK, webhook=c, target=c.url)
        for c in channels
    ]
    recipients = email_recipients(rule) if channel is None else []
    if recipients:
        rows.append(Notification(channel=Notification.Channel.EMAIL, target=", ".join(recipients)))
    for row in rows:
        row.rule, row.event, row.payload = rule, Notification.Event.TEST, payload
        row.max_attempts, row.next_attempt_at, row.created_at = 1, now, now
    sent = []
    for row in Notification.objects.bulk_create(rows):
        _claim_attempt(row, now)
        notification_attempt(row, now=now)
        sent.append(row)
    return sent


# --- the admin's writes ---------------------------------------------------------------------


def _values(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in fields}


def _audit_save(*, actor: Any, source: str, kind: str, name: str, before, after, detail=""):
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    audit_record(
        actor=actor,
        source=source,
        action=f"{kind}.create" if not before else f"{kind}.update",
        target=f"{kind}:{name}",
        before={k: before.get(k) for k in changed} or None,
        after=changed or None,
        detail=detail,
    )


@transaction.atomic
def alert_rule_save(*, rule: AlertRule, actor: Any, source: str) -> AlertRule:
    """Validate and save a rule (audited). A new metric, scope or window starts its sampled
    counters afresh; disabling it resolves its open alert (notified if the opening was)."""
    stored = AlertRule.objects.filter(pk=rule.pk).first() if rule.pk else None
    rule.full_clean()
    before = _values(stored, RULE_FIELDS) if stored else {}
    if stored and any(getattr(stored, f) != getattr(rule, f) for f in MEASURE_FIELDS):
        rule.window_samples = []
    rule.updated_at = timezone.now()
    rule.save()
    if not rule.enabled:
        _resolve_disabled(rule)
    _audit_save(
        actor=actor,
        source=source,
        kind="alert_rule",
        name=rule.name,
        before=before,
        after=_values(rule, RULE_FIELDS),
    )
    return rule


def _resolve_disabled(rule: AlertRule) -> None:
    now = timezone.now()
    for alert in Alert.objects.filter(rule=rule, state=Alert.State.OPEN):
        alert.summary = f"{alert.summary[:270]} ({RULE_DISABLED})"
        Alert.objects.filter(pk=alert.pk).update(summary=alert.summary)
        _resolve(alert, alert.last_value, now)


@transaction.atomic
def alert_rule_delete(*, rule: AlertRule, actor: Any, source: str) -> None:
    """Delete a rule with its alerts and notifications (audited)."""
    before = _values(rule, RULE_FIELDS)
    rule.delete()
    audit_record(
        actor=actor,
        source=source,
        action="alert_rule.delete",
        target=f"alert_rule:{before['name']}",
        before=before,
    )


@transaction.atomic
def webhook_channel_save(
    *, channel: WebhookChannel, actor: Any, source: str, secret: str | None = None
) -> WebhookChannel:
    """Validate and save a channel (audited; a new `secret` replaces the stored one and is
    recorded only as "secret changed")."""
    stored = WebhookChannel.objects.filter(pk=channel.pk).first() if channel.pk else None
    if secret is not None:
        if len(secret) < WEBHOOK_SECRET_MIN_LENGTH:
            raise ValidationError({"secret": SECRET_TOO_SHORT.format(n=WEBHOOK_SECRET_MIN_LENGTH)})
        channel.secret = secret
    channel.full_clean()
    channel.updated_at = timezone.now()
    channel.save()
    _audit_save(
        actor=actor,
        source=source,
        kind="webhook_channel",
        name=channel.name,
        before=_values(stored, CHANNEL_FIELDS) if stored else {},
        after=_values(channel, CHANNEL_FIELDS),
        detail=SECRET_CHANGED if secret is not None else "",
    )
    return channel


@transaction.atomic
def webhook_channel_delete(*, channel: WebhookChannel, actor: Any, source: str) -> None:
    """Delete a channel and its notifications (audited)."""
    before = _values(channel, CHANNEL_FIELDS)
    channel.delete()
    audit_record(
        actor=actor,
        source=source,
        action="webhook_channel.delete",
        target=f"webhook_channel:{before['name']}",
        before=before,
    )
