from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.api.errors import PROBLEM_CONTENT_TYPE
from apps.core.api.filtering import UNKNOWN_ORDERING
from apps.core.api.pagination import PAGE_SIZE_TOO_LARGE
from apps.core.states import JobStatus
from tests.factories import JobFactory, JobStatusEventFactory, JobStreamFactory

pytestmark = pytest.mark.django_db
JOBS = "/api/v1/jobs/"


def _names(response) -> list[str]:
    return [row["name"] for row in response.json()["results"]]


def test_it_lists_jobs_with_their_stream_and_workstation(viewer_client):
    job = JobFactory(name="PAYROLL_J001", internal_state="ABEND", return_code=12)
    body = viewer_client.get(JOBS).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["name"] == "PAYROLL_J001"
    assert row["status"] == JobStatus.ERROR
    assert row["internal_state"] == "ABEND"
    assert row["return_code"] == 12
    assert row["workstation"] == job.workstation.name
    assert row["stream"]["name"] == job.stream.name


def test_it_filters_by_status_state_workstation_and_stream(viewer_client):
    failed = JobFactory(name="FAILED", internal_state="ABEND")
    JobFactory(name="OK", internal_state="SUCC")
    held = JobFactory(name="HELD", internal_state="HOLD")
    assert _names(viewer_client.get(JOBS, {"status": "Error"})) == ["FAILED"]
    assert sorted(_names(viewer_client.get(JOBS + "?status=Error&status=Held"))) == [
        "FAILED",
        "HELD",
    ]
    assert _names(viewer_client.get(JOBS, {"internal_state": "hold"})) == ["HELD"]
    assert _names(viewer_client.get(JOBS, {"workstation": failed.workstation.name})) == ["FAILED"]
    assert _names(viewer_client.get(JOBS, {"stream": held.stream.name})) == ["HELD"]


def test_it_searches_job_and_stream_names(viewer_client):
    JobFactory(name="BILLING_RUN", stream=JobStreamFactory(name="NIGHTLY"))
    JobFactory(name="OTHER", stream=JobStreamFactory(name="BILLING_STREAM"))
    JobFactory(name="UNRELATED")
    assert sorted(_names(viewer_client.get(JOBS, {"q": "billing"}))) == ["BILLING_RUN", "OTHER"]


def test_it_filters_on_start_and_end_ranges(viewer_client):
    now = timezone.now()
    JobFactory(name="EARLY", start=now - timedelta(hours=5), end=now - timedelta(hours=4))
    JobFactory(name="LATE", start=now - timedelta(minutes=30), end=now)
    since = (now - timedelta(hours=1)).isoformat()
    assert _names(viewer_client.get(JOBS, {"start_after": since})) == ["LATE"]
    assert _names(viewer_client.get(JOBS, {"end_before": since})) == ["EARLY"]


def test_it_orders_by_an_allowed_field(viewer_client):
    JobFactory(name="B", return_code=2)
    JobFactory(name="A", return_code=9)
    assert _names(viewer_client.get(JOBS, {"ordering": "-return_code"})) == ["A", "B"]
    assert _names(viewer_client.get(JOBS, {"ordering": "name"})) == ["A", "B"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"status": "Exploded"}, "status"),
        ({"start_after": "yesterday-ish"}, "start_after"),
        ({"end_before": "2026-13-45"}, "end_before"),
        ({"page_size": "100000"}, "page_size"),
        ({"page_size": "-3"}, "page_size"),
        ({"page": "abc"}, "page"),
        ({"ordering": "password"}, "ordering"),
        ({"q": "x" * 200}, "q"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_the_parameter(viewer_client, params, parameter):
    JobFactory()
    response = viewer_client.get(JOBS, params)
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert body["status"] == 400
    assert parameter in body["errors"]
    assert parameter in body["detail"]


def test_the_ordering_error_lists_the_allowed_fields(viewer_client):
    body = viewer_client.get(JOBS, {"ordering": "nope"}).json()
    assert body["errors"]["ordering"][0].startswith(UNKNOWN_ORDERING.split("{")[0])
    assert "return_code" in body["errors"]["ordering"][0]


def test_page_size_over_the_maximum_says_the_maximum(viewer_client, settings):
    settings.API_MAX_PAGE_SIZE = 10
    body = viewer_client.get(JOBS, {"page_size": 11}).json()
    assert body["errors"]["page_size"] == [PAGE_SIZE_TOO_LARGE.format(maximum=10)]


def test_a_page_past_the_end_is_a_404_in_the_error_format(viewer_client):
    JobFactory()
    response = viewer_client.get(JOBS, {"page": 99})
    assert response.status_code == 404
    assert response.json()["status"] == 404


@pytest.mark.parametrize("url", [JOBS, "/api/v1/workstations/", "/api/v1/jobstreams/"])
def test_list_endpoints_run_the_same_number_of_queries_whatever_the_page_size(viewer_client, url):
    JobFactory.create_batch(30)
    viewer_client.get("/api/v1/health/")  # the user's permissions load once, then stay cached

    def queries(page_size: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = viewer_client.get(url, {"page_size": page_size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(page_size, response.json()["count"])
        return len(ctx.captured_queries)

    assert queries(2) == queries(30)
    assert queries(30) <= 3  # count + one page (+ the session/user lookup at most)


def test_a_job_detail_carries_its_recent_events_newest_first(viewer_client):
    job = JobFactory(internal_state="SUCC")
    now = timezone.now()
    JobStatusEventFactory(job=job, from_state="WAIT", to_state="READY", at=now - timedelta(2))
    JobStatusEventFactory(job=job, from_state="EXEC", to_state="SUCC", at=now)
    body = viewer_client.get(f"{JOBS}{job.id}/").json()
    assert body["hwa_id"] == job.hwa_id
    assert [e["to_state"] for e in body["recent_events"]] == ["SUCC", "READY"]


def test_a_job_detail_runs_a_constant_number_of_queries(viewer_client):
    job = JobFactory()
    JobStatusEventFactory.create_batch(25, job=job)
    viewer_client.get("/api/v1/health/")  # the user's permissions load once, then stay cached
    with CaptureQueriesContext(connection) as ctx:
        body = viewer_client.get(f"{JOBS}{job.id}/").json()
    assert len(body["recent_events"]) == 20
    assert len(ctx.captured_queries) == 2


def test_an_unknown_job_is_a_404_problem(viewer_client):
    response = viewer_client.get(f"{JOBS}999999/")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["title"] == "Not Found"


def test_writing_to_a_read_only_endpoint_is_a_405_problem(viewer_client):
    response = viewer_client.post(JOBS, {})
    assert response.status_code == 405
    assert response.json()["status"] == 405


def test_a_method_the_endpoint_lacks_is_a_405_whatever_its_query(viewer_client):
    # The query is checked against the method's parameters only once the method exists.
    response = viewer_client.generic("TRACE", f"{JOBS}?status=Error&page=1")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
