"""The monitoring API: security events for auditors, and the public CSP report endpoint."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from apps.monitoring.api.parsers import NOT_A_CSP_REPORT
from apps.monitoring.models import SecurityEvent
from apps.monitoring.services import recorder, security_events_flush

pytestmark = pytest.mark.django_db

Kind, Severity = SecurityEvent.Kind, SecurityEvent.Severity
EVENTS = "/api/v1/security-events/"
CSP_REPORT = "/api/v1/security/csp-report/"


def _event(kind, severity, ip, count, at, **extra) -> SecurityEvent:
    return SecurityEvent.objects.create(
        kind=kind, severity=severity, ip=ip, count=count, minute=at, first_seen=at, last_seen=at,
        **extra,
    )  # fmt: skip


@pytest.fixture
def events(frozen_clock):
    old, minute_ago = frozen_clock - timedelta(hours=2), frozen_clock - timedelta(minutes=1)
    return [
        _event(Kind.SQL_INJECTION, Severity.HIGH, "203.0.113.1", 40, frozen_clock,
               username="viewer", path="/api/v1/jobs/", pattern="tautology"),
        _event(Kind.HTTP_ERROR, Severity.LOW, "203.0.113.1", 300, minute_ago),
        _event(Kind.SCANNER, Severity.MEDIUM, "2001:db8::1", 2, old),
        _event(Kind.CSP_VIOLATION, Severity.LOW, "", 1, old),
    ]  # fmt: skip


# --- GET /api/v1/security-events/ --------------------------------------------------------


def test_auditors_list_events_most_recently_seen_first(auditor_client, events):
    response = auditor_client.get(EVENTS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    first = body["results"][0]
    assert first == {
        "id": events[0].id,
        "kind": "sql_injection",
        "severity": "high",
        "ip": "203.0.113.1",
        "user": "viewer",
        "path": "/api/v1/jobs/",
        "pattern": "tautology",
        "request_id": "",
        "detail": "",
        "count": 40,
        "first_seen": first["first_seen"],
        "last_seen": first["last_seen"],
    }
    rest = [(r["kind"], r["ip"], r["user"]) for r in body["results"][1:]]
    assert rest == [  # the same last_seen: the later row first
        ("http_error", "203.0.113.1", None),
        ("csp_violation", None, None),  # no address known
        ("scanner", "2001:db8::1", None),
    ]


@pytest.mark.parametrize(
    ("query", "kinds"),
    [
        ({"kind": "SQL_INJECTION"}, {"sql_injection"}),
        ({"kind": ["scanner", "http_error"]}, {"scanner", "http_error"}),
        ({"severity": "low"}, {"http_error", "csp_violation"}),
        ({"severity": ["HIGH", "medium"]}, {"sql_injection", "scanner"}),
        ({"ip": "203.0.113.1"}, {"sql_injection", "http_error"}),
        ({"ip": "2001:0db8:0000::0001"}, {"scanner"}),
        ({"ip": "::ffff:203.0.113.1"}, {"sql_injection", "http_error"}),
        ({"severity": "low", "ip": "203.0.113.1"}, {"http_error"}),
    ],
)
def test_events_filter_by_kind_severity_and_ip(auditor_client, events, query, kinds):
    response = auditor_client.get(EVENTS, query)

    assert response.status_code == 200
    assert {r["kind"] for r in response.json()["results"]} == kinds


def test_events_filter_by_when_last_seen(auditor_client, events, frozen_clock):
    since = (frozen_clock - timedelta(minutes=30)).isoformat()

    response = auditor_client.get(EVENTS, {"since": since})

    assert {r["kind"] for r in response.json()["results"]} == {"sql_injection", "http_error"}


def test_events_order_and_paginate(auditor_client, events):
    response = auditor_client.get(EVENTS, {"ordering": "-count", "page_size": 2})

    body = response.json()
    assert [r["count"] for r in body["results"]] == [300, 40]
    assert body["next"] is not None
    page_two = auditor_client.get(EVENTS, {"ordering": "-count", "page_size": 2, "page": 2})
    assert [r["count"] for r in page_two.json()["results"]] == [2, 1]


def test_only_monitoring_readers_see_events(viewer_client, administrator_client, anon_client):
    assert viewer_client.get(EVENTS).status_code == 403
    assert anon_client.get(EVENTS).status_code == 401
    assert administrator_client.get(EVENTS).status_code == 200


def test_what_the_middleware_records_is_listed(auditor_client, viewer_client, frozen_clock):
    viewer_client.get("/api/v1/jobs/", {"q": "' OR 1=1--"})
    security_events_flush()

    results = auditor_client.get(EVENTS, {"kind": "sql_injection"}).json()["results"]

    assert [(r["user"], r["ip"], r["pattern"], r["count"]) for r in results] == [
        ("viewer", "127.0.0.1", "tautology", 1)
    ]


# --- POST /api/v1/security/csp-report/ ---------------------------------------------------

REPORT_URI_BODY = {
    "csp-report": {
        "document-uri": "https://resync.example/admin/core/job/?q=1",
        "referrer": "",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "original-policy": "default-src 'self'; script-src 'self'; report-uri /api/v1/...",
        "disposition": "enforce",
        "blocked-uri": "https://cdn.evil.example/x.js",
        "status-code": 200,
        "script-sample": "",
    }
}
REPORTING_API_BODY = [
    {
        "type": "csp-violation",
        "age": 10,
        "url": "https://resync.example/api/docs/",
        "user_agent": "Mozilla/5.0",
        "body": {
            "documentURL": "https://resync.example/api/docs/",
            "blockedURL": "inline",
            "effectiveDirective": "style-src-attr",
            "disposition": "report",
            "sample": "<script>alert(1)</script>",
            "statusCode": 200,
        },
    },
    {"type": "deprecation", "age": 1, "url": "https://resync.example/", "body": {"id": "x"}},
    {
        "type": "csp-violation",
        "age": 3,
        "url": "https://resync.example/api/docs/",
        "body": {"blockedURL": "eval", "effectiveDirective": "script-src"},
    },
]


def _report(client, body, content_type, **extra):
    return client.generic("POST", CSP_REPORT, json.dumps(body), content_type, **extra)


def test_a_report_uri_report_is_a_csp_violation_event(anon_client, frozen_clock):
    response = _report(anon_client, REPORT_URI_BODY, "application/csp-report")

    assert response.status_code == 204
    security_events_flush()
    event = SecurityEvent.objects.get()
    assert (event.kind, event.severity, event.ip) == (Kind.CSP_VIOLATION, Severity.LOW, "127.0.0.1")
    assert event.pattern == "script-src-elem"
    assert event.path == "/admin/core/job/"
    assert event.detail == (
        "enforce: script-src-elem blocked https://cdn.evil.example/x.js "
        "on https://resync.example/admin/core/job/?q=1"
    )
    assert event.request_id == response["X-Request-ID"]


def test_a_reporting_api_batch_counts_its_csp_violations(anon_client, frozen_clock):
    response = _report(anon_client, REPORTING_API_BODY, "application/reports+json")

    assert response.status_code == 204
    security_events_flush()
    (event,) = SecurityEvent.objects.all()  # the script sample is not scanned as an attack
    assert (event.kind, event.count, event.pattern) == (Kind.CSP_VIOLATION, 2, "style-src-attr")
    assert event.detail.startswith("report: style-src-attr blocked inline on ")


def test_reports_of_one_address_in_one_minute_are_one_event(anon_client, frozen_clock):
    for _ in range(5):
        _report(anon_client, REPORT_URI_BODY, "application/csp-report")
    _report(anon_client, REPORT_URI_BODY, "application/csp-report", REMOTE_ADDR="198.51.100.2")
    security_events_flush()

    assert sorted(SecurityEvent.objects.values_list("ip", "count")) == [
        ("127.0.0.1", 5),
        ("198.51.100.2", 1),
    ]


def test_a_batch_without_csp_violations_records_nothing(anon_client):
    body = [REPORTING_API_BODY[1]]

    assert _report(anon_client, body, "application/reports+json").status_code == 204
    assert recorder.pending() == []


def test_reports_need_no_credentials_and_ignore_bad_ones(anon_client):
    response = _report(
        anon_client, REPORT_URI_BODY, "application/csp-report", HTTP_AUTHORIZATION="Bearer junk"
    )

    assert response.status_code == 204


def test_a_malformed_report_is_a_400_problem(anon_client):
    response = _report(anon_client, {"violated-directive": "x"}, "application/csp-report")

    assert response.status_code == 400
    assert response.json()["detail"] == NOT_A_CSP_REPORT


def test_reports_are_rate_limited_per_address(anon_client, settings):
    settings.RESYNC_THROTTLE_RATES = {**settings.RESYNC_THROTTLE_RATES, "csp_report": "2/min"}

    statuses = [
        _report(anon_client, REPORT_URI_BODY, "application/csp-report").status_code
        for _ in range(3)
    ]
    other = _report(anon_client, REPORT_URI_BODY, "application/csp-report", REMOTE_ADDR="10.9.9.9")

    assert statuses == [204, 204, 429]
    assert other.status_code == 204
