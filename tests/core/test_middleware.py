"""Request correlation: one id per request or sync run, in every log line it causes."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.conf import settings
from django.utils.functional import empty
from pythonjsonlogger.json import JsonFormatter

from apps.core.middleware import (
    NO_REQUEST_ID,
    RequestIdLogFilter,
    current_request_id,
    request_id_context,
)

CLEAR = "/api/v1/cache/clear/"


def test_outside_a_request_a_context_makes_an_id_and_puts_back_none():
    with request_id_context() as first:
        assert current_request_id() == first != NO_REQUEST_ID
    with request_id_context() as second:
        assert second != first

    assert current_request_id() == NO_REQUEST_ID


def test_inside_a_request_a_context_keeps_the_requests_id():
    with request_id_context("req-1"), request_id_context() as inner:
        assert inner == "req-1"
    with request_id_context("req-1"), request_id_context("job-2") as chosen:
        assert chosen == current_request_id() == "job-2"


@pytest.fixture
def json_lines():
    """The production JSON formatter (settings.LOGGING), writing to a buffer for the root logger."""
    options = {k: v for k, v in settings.LOGGING["formatters"]["json"].items() if k != "()"}
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(**options))
    handler.addFilter(RequestIdLogFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_json_line_has_time_level_logger_message_and_request_id(json_lines):
    with request_id_context("run-42"):
        logging.getLogger("resync.test").warning("HWA is slow: %s s", 3)

    (line,) = json_lines()
    assert line["level"] == "WARNING"
    assert line["logger"] == "resync.test"
    assert line["message"] == "HWA is slow: 3 s"
    assert (line["request_id"], line["user"], line["route"]) == ("run-42", NO_REQUEST_ID, "")
    assert line["time"].endswith("+00:00")


@pytest.mark.django_db
def test_a_requests_log_lines_carry_its_id_user_route_and_duration(
    json_lines, administrator_client, auditor_client
):
    response = administrator_client.post(CLEAR)
    # 403: Django logs it after the middleware returned, with the request object on the record
    refused = auditor_client.post(CLEAR + "?token=secret")

    lines = {(line["logger"], line["user"]): line for line in json_lines()}
    audited = lines["apps.monitoring.audit_middleware", "administrator"]
    assert audited["request_id"] == response["X-Request-ID"]
    assert (audited["user"], audited["route"]) == ("administrator", "api/v1/cache/clear/")
    assert audited["duration_ms"] > 0
    forbidden = lines["django.request", "auditor"]
    assert forbidden["message"] == f"Forbidden: {CLEAR}"
    assert forbidden["route"] == "api/v1/cache/clear/"
    assert forbidden["request_id"] == refused["X-Request-ID"]
    assert "secret" not in repr(forbidden)  # the query string stays out of the logs


@pytest.mark.django_db
def test_a_request_that_shows_no_message_builds_no_message_storage(client):
    response = client.get("/api/v1/health/live/")

    assert response.status_code == 200
    assert response.wsgi_request._messages._wrapped is empty  # never built
