"""Plan filters as a client sees them: any-case choices and datetimes in any real offset."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from apps.core.api.filtering import NOT_A_BOOLEAN, OFFSET_OUT_OF_RANGE
from tests.factories import JobFactory, JobStreamFactory, WorkstationFactory

pytestmark = pytest.mark.django_db
JOBS = "/api/v1/jobs/"
STREAMS = "/api/v1/jobstreams/"
WORKSTATIONS = "/api/v1/workstations/"


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["name"] for row in response.json()["results"])


@pytest.mark.parametrize(
    "query",
    [
        {"status": "Error"},
        {"status": "error"},
        {"status": "ERROR"},
        {"internal_state": "ABEND"},
        {"internal_state": "abend"},
        {"internal_state": "Abend"},
    ],
)
def test_status_and_internal_state_match_in_any_case(viewer_client, query):
    JobFactory(name="FAILED", internal_state="ABEND")
    JobFactory(name="OK", internal_state="SUCC")
    assert _names(viewer_client.get(JOBS, query)) == ["FAILED"]


def test_a_stream_state_matches_in_any_case_and_repeats(viewer_client):
    JobStreamFactory(name="RUNNING", state="EXEC")
    JobStreamFactory(name="HELD", state="HOLD")
    JobStreamFactory(name="DONE", state="SUCC")
    assert _names(viewer_client.get(STREAMS, {"state": "exec"})) == ["RUNNING"]
    assert _names(viewer_client.get(f"{STREAMS}?state=Exec&state=hold")) == ["HELD", "RUNNING"]


def test_a_datetime_in_another_offset_means_the_same_instant(viewer_client):
    JobFactory(name="MIDNIGHT_UTC", start=datetime(2024, 6, 1, tzinfo=UTC))
    # 09:00 at +14:00 is 19:00 UTC the day before, 13:00 is 23:00; 12:00:01 at -12:00 is 00:00:01.
    assert _names(viewer_client.get(JOBS, {"start_after": "2024-06-01T09:00:00+14:00"})) == [
        "MIDNIGHT_UTC"
    ]
    assert _names(viewer_client.get(JOBS, {"start_before": "2024-06-01T13:00:00+14:00"})) == []
    assert _names(viewer_client.get(JOBS, {"start_after": "2024-05-31T12:00:01-12:00"})) == []


def test_an_offset_no_time_zone_uses_is_a_400_saying_the_range(viewer_client):
    response = viewer_client.get(JOBS, {"start_after": "2024-06-01T00:00:00+16:00"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"start_after": [OFFSET_OUT_OF_RANGE]}


def test_an_empty_filter_filters_nothing(viewer_client):
    # The browsable API's filter form sends every field, filled in or not.
    JobFactory(name="FAILED", internal_state="ABEND")
    JobFactory(name="OK", internal_state="SUCC")
    query = "status=&internal_state=&q=&start_after=&end_before=&ordering="
    assert _names(viewer_client.get(f"{JOBS}?{query}")) == ["FAILED", "OK"]
    assert _names(viewer_client.get(f"{JOBS}?status=&status=error")) == ["FAILED"]


@pytest.mark.parametrize(
    ("value", "names"), [("true", ["GONE"]), ("FALSE", ["LISTED"]), ("1", ["GONE"])]
)
def test_gone_takes_true_or_false_in_any_case(viewer_client, value, names):
    WorkstationFactory(name="GONE", gone_at=timezone.now())
    WorkstationFactory(name="LISTED")
    assert _names(viewer_client.get(WORKSTATIONS, {"gone": value})) == names


@pytest.mark.parametrize("value", ["yes", "AAA", "-5", "2"])
def test_a_boolean_filter_refuses_any_other_word(viewer_client, value):
    # Django's NullBooleanField read these as "unknown" and filtered nothing.
    response = viewer_client.get(WORKSTATIONS, {"gone": value})
    assert response.status_code == 400
    assert response.json()["errors"] == {"gone": [NOT_A_BOOLEAN]}
