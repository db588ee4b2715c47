"""GET /api/v1/jobs/export/: the plan as a CSV or NDJSON file, streamed."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

import orjson
import pytest
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core import export
from apps.core.api.errors import PROBLEM_CONTENT_TYPE
from apps.core.models import SyncRun
from apps.core.selectors import sync
from apps.security import throttling
from apps.security.permissions import NOT_PERMITTED, VIEW_PLAN
from apps.security.scopes import MONITORING_READ, PLAN_READ
from tests.factories import JobFactory, JobStreamFactory, WorkstationFactory
from tests.security.conftest import issue_key, key_client  # noqa: F401 (issue_key: a fixture)

pytestmark = pytest.mark.django_db
EXPORT = "/api/v1/jobs/export/"


def _body(response) -> bytes:
    # Reading it to the end closes the response, as a WSGI server does (Django's test client).
    return b"".join(response.streaming_content)


def _status(response) -> int:
    if response.streaming:
        _body(response)
    return response.status_code


def _csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_body(response).decode())))


def _ndjson_rows(response) -> list[dict]:
    return [orjson.loads(line) for line in _body(response).splitlines()]


@pytest.fixture
def plan():
    """Three jobs on two workstations, one failed with a return code, one not started."""
    agent = WorkstationFactory(name="FTA_PAY")
    stream = JobStreamFactory(
        name="PAYROLL", workstation=agent, scheduled_time=datetime(2026, 3, 1, 6, tzinfo=UTC)
    )
    start, end = datetime(2026, 3, 1, 6, 5, tzinfo=UTC), datetime(2026, 3, 1, 6, 9, 30, tzinfo=UTC)
    failed = JobFactory(
        name="PAY_CALC", stream=stream, internal_state="ABEND", return_code=12, start=start, end=end
    )
    JobFactory(
        name="PAY_SEND",
        stream=stream,
        internal_state="HOLD",
        return_code=None,
        start=None,
        end=None,
    )
    JobFactory(name="BILL_RUN", internal_state="SUCC")
    return failed


def test_csv_has_a_header_and_every_job_with_plain_values(viewer_client, plan):
    response = viewer_client.get(EXPORT, {"format": "csv"})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _csv_rows(response)
    assert list(rows[0]) == list(export.JOB_COLUMNS)
    assert [row["name"] for row in rows] == ["PAY_CALC", "PAY_SEND", "BILL_RUN"]  # by id
    assert rows[0] == {
        "id": str(plan.pk),
        "hwa_id": plan.hwa_id,
        "name": "PAY_CALC",
        "status": "Error",
        "internal_state": "ABEND",
        "workstation": "FTA_PAY",
        "stream": "PAYROLL",
        "stream_scheduled_time": "2026-03-01T06:00:00Z",
        "return_code": "12",
        "start": "2026-03-01T06:05:00Z",
        "end": "2026-03-01T06:09:30Z",
        "rerun_count": "0",
        "updated_at": rows[0]["updated_at"],
    }
    assert rows[1]["start"] == rows[1]["return_code"] == ""  # missing: an empty cell


def test_csv_is_the_default_format(viewer_client, plan):
    response = viewer_client.get(EXPORT)

    assert response["Content-Type"] == export.CONTENT_TYPES[export.CSV]
    assert len(_csv_rows(response)) == 3


def test_ndjson_is_one_object_per_line_with_nulls(viewer_client, plan):
    response = viewer_client.get(EXPORT, {"format": "ndjson"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    rows = _ndjson_rows(response)
    assert [row["name"] for row in rows] == ["PAY_CALC", "PAY_SEND", "BILL_RUN"]
    assert rows[0]["status"] == "Error"
    assert rows[0]["return_code"] == 12
    assert rows[0]["start"] == "2026-03-01T06:05:00Z"
    assert rows[0]["workstation"] == "FTA_PAY"
    assert rows[1]["start"] is None
    assert rows[1]["return_code"] is None
    assert list(rows[2]) == list(export.JOB_COLUMNS)


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_it_takes_the_job_lists_filters_and_ordering(viewer_client, plan, fmt):
    def names(**params) -> list[str]:
        response = viewer_client.get(EXPORT, {"format": fmt, **params})
        assert response.status_code == 200
        rows = _csv_rows(response) if fmt == export.CSV else _ndjson_rows(response)
        return [row["name"] for row in rows]

    assert names(status="error") == ["PAY_CALC"]
    assert names(workstation="FTA_PAY", ordering="-name") == ["PAY_SEND", "PAY_CALC"]
    assert names(q="bill") == ["BILL_RUN"]
    assert names(internal_state="hold") == ["PAY_SEND"]
    assert names(start_after="2026-03-01T06:00:00Z", start_before="2026-03-01T07:00:00Z") == [
        "PAY_CALC"
    ]
    assert names(stream="NO_SUCH_STREAM") == []


def test_status_can_be_repeated(viewer_client, plan):
    response = viewer_client.get(EXPORT + "?format=ndjson&status=Error&status=Held")

    assert sorted(row["name"] for row in _ndjson_rows(response)) == ["PAY_CALC", "PAY_SEND"]


def test_an_empty_export_is_the_header_alone_in_csv_and_nothing_in_ndjson(viewer_client):
    csv_body = _body(viewer_client.get(EXPORT, {"format": "csv"}))
    ndjson_body = _body(viewer_client.get(EXPORT, {"format": "ndjson"}))

    assert csv_body.decode() == ",".join(export.JOB_COLUMNS) + "\r\n"
    assert ndjson_body == b""


def test_text_a_spreadsheet_would_run_as_a_formula_is_quoted_in_csv(viewer_client):
    JobFactory(name="=HYPERLINK(1)")

    rows = _csv_rows(viewer_client.get(EXPORT))

    assert rows[0]["name"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("format=xlsx", "format"),
        ("format=", "format"),
        ("format=json", "format"),
        ("format=csv&format=ndjson", "format"),
        ("status=Bogus", "status"),
        ("ordering=sync_hash", "ordering"),
        ("page_size=10", "page_size"),
        ("junk=1", "junk"),
    ],
)
def test_bad_parameters_are_a_400_problem_naming_them(viewer_client, query, parameter):
    response = viewer_client.get(EXPORT + "?" + query)

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert list(response.json()["errors"]) == [parameter]


def test_the_file_is_an_attachment_named_after_the_plan_day(viewer_client, plan):
    SyncRun.objects.create(
        status=SyncRun.Status.OK,
        started_at=datetime(2026, 3, 1, 23, 59, tzinfo=UTC),
        finished_at=datetime(2026, 3, 2, 0, 0, 1, tzinfo=UTC),
    )
    sync.freshness_reset()

    csv_response = viewer_client.get(EXPORT, {"format": "csv"})
    ndjson_response = viewer_client.get(EXPORT, {"format": "ndjson"})

    assert (
        csv_response["Content-Disposition"] == 'attachment; filename="resync-jobs-2026-03-02.csv"'
    )
    assert ndjson_response["Content-Disposition"] == (
        'attachment; filename="resync-jobs-2026-03-02.ndjson"'
    )
    assert _body(csv_response)
    assert _body(ndjson_response)


def test_a_plan_never_synced_is_named_after_today(viewer_client):
    response = viewer_client.get(EXPORT)

    assert timezone.localdate().isoformat() in response["Content-Disposition"]
    _body(response)


def test_anonymous_callers_are_refused(anon_client, plan):
    response = anon_client.get(EXPORT)

    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE


def test_roles_without_the_plan_are_refused(auditor_client, outsider_client, plan):
    for client in (auditor_client, outsider_client):
        response = client.get(EXPORT)

        assert response.status_code == 403
        assert response.json()["detail"] == NOT_PERMITTED.format(permission=VIEW_PLAN)


def test_api_keys_need_the_plan_read_scope(issue_key, viewer, plan):  # noqa: F811
    _, plan_key = issue_key(viewer, scopes=[PLAN_READ])
    _, monitoring_key = issue_key(viewer, scopes=[MONITORING_READ])

    allowed = key_client(plan_key).get(EXPORT)
    refused = key_client(monitoring_key).get(EXPORT)

    assert allowed.status_code == 200
    assert len(_csv_rows(allowed)) == 3
    assert refused.status_code == 403


@pytest.fixture
def mid_window(monkeypatch):
    now = (int(time.time()) // 60) * 60 + 20.0  # as tests/security/test_throttling.py
    monkeypatch.setattr(throttling, "_clock", lambda: now)


def test_exports_have_their_own_rate_per_caller(
    settings, mid_window, viewer_client, operator_client
):
    settings.RESYNC_THROTTLE_RATES = {**settings.RESYNC_THROTTLE_RATES, "export": "2/min"}

    statuses = [_status(viewer_client.get(EXPORT)) for _ in range(3)]
    throttled = viewer_client.get(EXPORT)

    assert statuses == [200, 200, 429]
    assert throttled["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert _status(operator_client.get(EXPORT)) == 200  # another caller, its own count
    assert viewer_client.get("/api/v1/jobs/").status_code == 200  # page reads are not counted


def _export_queries(client, fmt: str) -> tuple[int, int]:
    """(queries, rows) of one export, the queries counted while the body is read."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(EXPORT, {"format": fmt})
        rows = _csv_rows(response) if fmt == export.CSV else _ndjson_rows(response)
    return len(queries), len(rows)


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_reading_the_export_costs_the_same_queries_for_any_number_of_rows(
    viewer_client, monkeypatch, fmt
):
    # Small chunks, so a few rows already take several chunks and database fetches.
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    monkeypatch.setattr("apps.core.selectors.plan.EXPORT_FETCH_ROWS", 3)
    stream = JobStreamFactory()
    JobFactory.create_batch(4, stream=stream)
    _body(viewer_client.get(EXPORT))  # the first request reads the user, the freshness...

    few = _export_queries(viewer_client, fmt)
    JobFactory.create_batch(16, stream=stream)
    many = _export_queries(viewer_client, fmt)

    assert (few[1], many[1]) == (4, 20)
    assert few[0] == many[0]


def test_the_body_is_streamed_in_chunks(viewer_client, monkeypatch):
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    JobFactory.create_batch(5, stream=JobStreamFactory())

    response = viewer_client.get(EXPORT, {"format": "ndjson"})
    chunks = list(response.streaming_content)

    assert [chunk.count(b"\n") for chunk in chunks] == [2, 2, 1]


def test_a_client_that_goes_away_mid_download_ends_the_database_read(viewer_client, monkeypatch):
    monkeypatch.setattr(export, "CHUNK_ROWS", 1)
    JobFactory.create_batch(3, stream=JobStreamFactory())
    atomic_before = connection.in_atomic_block, len(connection.savepoint_ids)

    response = viewer_client.get(EXPORT, {"format": "ndjson"})
    next(iter(response.streaming_content))
    # As a WSGI server closes the response of a client that went away (keeping the test's
    # connection open, as Django's test client does).
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)

    assert (connection.in_atomic_block, len(connection.savepoint_ids)) == atomic_before


def test_times_are_utc_whatever_the_time_zone(settings, viewer_client):
    settings.TIME_ZONE = "Europe/Paris"
    paris = timezone.get_fixed_timezone(120)
    JobFactory(
        start=datetime(2026, 7, 1, 12, tzinfo=paris),
        end=None,
        updated_at=datetime(2026, 7, 1, 10, 0, 1, 250000, tzinfo=UTC),
        stream=JobStreamFactory(scheduled_time=datetime(2026, 7, 1, 9, 59, 59, 999999, tzinfo=UTC)),
    )

    rows = _ndjson_rows(viewer_client.get(EXPORT, {"format": "ndjson"}))

    assert rows[0]["start"] == "2026-07-01T10:00:00Z"
    assert rows[0]["end"] is None
    # Fractions of a second when there are some, without trailing zeros.
    assert rows[0]["updated_at"] == "2026-07-01T10:00:01.25Z"
    assert rows[0]["stream_scheduled_time"] == "2026-07-01T09:59:59.999999Z"
