"""Sending one notification: the message, its signature, one attempt by email or webhook.

Webhook: a POST of the JSON payload (compact, keys sorted: the exact bytes are what is
signed) with these headers; a 2xx answer is a delivery, anything else a failed attempt:

    Content-Type: application/json
    X-Resync-Event: open | resolve | test
    X-Resync-Delivery: <notification id>   (the same on every retry: deduplicate on it)
    X-Resync-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the channel's secret>

Email: Django's email backend (EMAIL_* settings), one message to the notification's
addresses. Retries and their bookkeeping are services.py's; a failed attempt here raises
DeliveryFailed with a line fit for the Notification's last_error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
from django.conf import settings
from django.core.mail import EmailMessage

from apps.monitoring.alerts.models import Alert, AlertRule, Notification, WebhookChannel
from apps.security.crypto import plaintext

SIGNATURE_HEADER = "X-Resync-Signature"
EVENT_HEADER = "X-Resync-Event"
DELIVERY_HEADER = "X-Resync-Delivery"
USER_AGENT = "Resync-Alerts/1"
HTTP_REFUSED = "HTTP {status} from the receiver: {body}"
TEST_MESSAGE = "A test notification from Resync: this channel works."
EVENT_WORDS = {"open": "OPEN", "resolve": "RESOLVED", "test": "TEST"}


class DeliveryFailed(Exception):
    """One attempt failed; the message says why (recorded as the notification's last error)."""


def signature(body: bytes, secret: str) -> str:
    """The X-Resync-Signature value of `body`: "sha256=" + hex HMAC-SHA256 keyed by `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, secret: str, header: str) -> bool:
    """Does `header` sign `body` with `secret`? (Constant-time: what a receiver should do.)"""
    return hmac.compare_digest(signature(body, secret), header or "")


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, keys sorted."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def alert_payload(alert: Alert, event: str, *, note: str, sent_at: str) -> dict[str, Any]:
    """The message about `alert` (event "open" or "resolve")."""
    return {
        "event": event,
        "created_at": sent_at,
        "alert": {
            "id": alert.pk,
            "rule": alert.rule_name,
            "rule_id": alert.rule_id,
            "state": alert.state,
            "severity": alert.severity,
            "metric": alert.metric,
            "scope": alert.scope,
            "condition": f"{alert.metric} {alert.comparison} {alert.threshold:g}",
            "threshold": alert.threshold,
            "value": alert.value,
            "last_value": alert.last_value,
            "summary": alert.summary,
            "opened_at": alert.opened_at.isoformat(),
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
            "note": note,
        },
    }


def test_payload(*, rule: AlertRule | None, sent_at: str) -> dict[str, Any]:
    """The message of "send test notification"."""
    return {
        "event": "test",
        "created_at": sent_at,
        "alert": None,
        "rule": rule.name if rule is not None else None,
        "message": TEST_MESSAGE,
    }


def send(notification: Notification) -> None:
    """One attempt to deliver `notification`; DeliveryFailed when it did not arrive."""
    if notification.channel == Notification.Channel.WEBHOOK:
        _webhook_send(notification)
    else:
        _email_send(notification)


def _webhook_send(notification: Notification) -> None:
    channel: WebhookChannel = notification.webhook
    secret = plaintext(channel.secret, what=f"The secret of webhook channel {channel.name!r}")
    body = body_of(notification.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: notification.event,
        DELIVERY_HEADER: str(notification.pk),
        SIGNATURE_HEADER: signature(body, secret),
    }
    try:
        # No redirects: the signed body goes to the URL an administrator entered, nowhere else.
        response = httpx.post(channel.url, content=body, headers=headers, timeout=channel.timeout_s)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not response.is_success:
        text = " ".join(response.text[:200].split()) or "(empty body)"
        raise DeliveryFailed(HTTP_REFUSED.format(status=response.status_code, body=text))


def _email_send(notification: Notification) -> None:
    subject, text = email_text(notification.payload)
    recipients = [address.strip() for address in notification.target.split(",") if address]
    message = EmailMessage(subject, text, from_email=settings.DEFAULT_FROM_EMAIL, to=recipients)
    try:
        message.send()
    except OSError as exc:  # smtplib's errors are OSErrors too
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc


def email_text(payload: dict[str, Any]) -> tuple[str, str]:
    """Subject and body of the email for `payload`."""
    event = EVENT_WORDS.get(payload["event"], payload["event"])
    alert = payload.get("alert")
    if alert is None:
        return f"[Resync] {event}: test notification", payload.get("message", "")
    subject = f"[Resync {alert['severity']}] {event}: {alert['rule']}"
    lines = [alert["summary"], "", f"Condition: {alert['condition']}"]
    if alert["last_value"] is not None:
        lines.append(f"Latest value: {alert['last_value']:g}")
    lines.append(f"Opened at: {alert['opened_at']}")
    if alert["resolved_at"]:
        lines.append(f"Resolved at: {alert['resolved_at']}")
    if alert["note"]:
        lines += ["", alert["note"]]
    return subject, "\n".join(lines) + "\n"
