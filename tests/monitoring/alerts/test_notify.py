"""The message and its signature, as a receiver checks it."""

from __future__ import annotations

import hashlib
import hmac

from apps.monitoring.alerts.notify import body_of, email_text, signature, signature_valid

SECRET = "a-webhook-secret-0123456789"


def test_the_signature_is_hmac_sha256_of_the_raw_body_in_hex():
    body = body_of({"event": "open", "alert": {"id": 1}})

    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert signature(body, SECRET) == f"sha256={expected}"


def test_a_changed_body_or_another_secret_does_not_verify():
    body = body_of({"event": "open", "alert": {"id": 1}})
    header = signature(body, SECRET)

    assert signature_valid(body, SECRET, header)
    assert not signature_valid(body.replace(b"open", b"shut"), SECRET, header)
    assert not signature_valid(body, "another-secret-0123456789", header)
    assert not signature_valid(body, SECRET, "")


def test_the_body_is_compact_json_with_sorted_keys():
    assert body_of({"b": 1, "a": [1, 2]}) == b'{"a":[1,2],"b":1}'


def test_an_email_says_what_opened_and_what_to_do():
    payload = {
        "event": "open",
        "alert": {
            "rule": "Server errors",
            "severity": "critical",
            "summary": "7.50 % (15 of 200 requests answered 5xx) (threshold > 5 %)",
            "condition": "error_rate > 5",
            "last_value": 7.5,
            "opened_at": "2026-01-01T10:00:00+00:00",
            "resolved_at": None,
            "note": "See the logs.",
        },
    }

    subject, text = email_text(payload)

    assert subject == "[Resync critical] OPEN: Server errors"
    assert text.splitlines() == [
        "7.50 % (15 of 200 requests answered 5xx) (threshold > 5 %)",
        "",
        "Condition: error_rate > 5",
        "Latest value: 7.5",
        "Opened at: 2026-01-01T10:00:00+00:00",
        "",
        "See the logs.",
    ]
