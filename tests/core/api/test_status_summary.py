from __future__ import annotations

import pytest

from tests.factories import JobFactory, WorkstationFactory

pytestmark = pytest.mark.django_db


def test_it_counts_jobs_by_status_state_and_workstation(viewer_client):
    agent = WorkstationFactory(name="AGENT1")
    JobFactory.create_batch(3, internal_state="SUCC", stream__workstation=agent)
    JobFactory(internal_state="ABEND", stream__workstation=agent)
    JobFactory(internal_state="FAIL", stream__workstation__name="FTA9")
    JobFactory(internal_state="NEWSTATE", stream__workstation__name="FTA9")

    body = viewer_client.get("/api/v1/jobs/status/").json()

    assert body["total"] == 6
    assert body["by_status"] == {"Error": 2, "Successful": 3, "Undecided": 1}
    assert body["by_internal_state"] == {"ABEND": 1, "FAIL": 1, "NEWSTATE": 1, "SUCC": 3}
    assert body["by_workstation"] == {"AGENT1": 4, "FTA9": 2}


def test_an_empty_plan_counts_zero(viewer_client):
    body = viewer_client.get("/api/v1/jobs/status/").json()
    assert body == {"total": 0, "by_status": {}, "by_internal_state": {}, "by_workstation": {}}
