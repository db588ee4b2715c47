"""Job actions over the API, forwarded to the real simulator."""

from __future__ import annotations

import pytest

from apps.core.api.base import SYNC_STATUS_HEADER, SYNCED_AT_HEADER
from apps.core.api.caching import CACHE_HEADER
from apps.core.models import Job, JobAction, JobStatusEvent
from apps.core.services.sync import plan_sync
from apps.monitoring.models import AuditEvent
from tests.conftest import _client_for
from tests.core.sync_fixtures import waiting_job

pytestmark = pytest.mark.django_db


def url(job: Job, action: str) -> str:
    return f"/api/v1/jobs/{job.pk}/actions/{action}/"


def test_a_viewer_without_the_permission_gets_403(synced, viewer_client) -> None:
    job = waiting_job(synced)

    response = viewer_client.post(url(job, "hold"))

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert synced.plan.job(job.hwa_id).state == "WAIT"


def test_an_operator_holds_a_job_in_hwa_and_the_mirror(synced, operator) -> None:
    job = waiting_job(synced)

    response = _client_for(operator).post(url(job, "hold"))

    assert response.status_code == 200, response.content
    assert response.json()["job"]["internal_state"] == "HOLD"
    assert synced.plan.job(job.hwa_id).state == "HOLD"
    job.refresh_from_db()
    assert job.internal_state == "HOLD"
    assert JobStatusEvent.objects.filter(job=job, from_state="WAIT", to_state="HOLD").exists()
    action = JobAction.objects.get()
    assert (action.actor, action.outcome, action.state_after) == (operator, "ok", "HOLD")
    assert AuditEvent.objects.filter(action="job.hold", actor=operator, outcome="ok").exists()


def test_one_request_id_follows_an_action_from_the_api_to_hwa(synced, operator) -> None:
    job = waiting_job(synced)
    synced.reset_counts()

    response = _client_for(operator).post(url(job, "hold"), HTTP_X_REQUEST_ID="ops-ticket-7")

    assert response.status_code == 200, response.content
    assert response["X-Request-ID"] == "ops-ticket-7"
    hwa_path = f"/twsd/plan/current/job/{job.hwa_id}"
    assert synced.request_ids("PUT", f"{hwa_path}/action/hold") == ["ops-ticket-7"]
    assert synced.request_ids("GET", hwa_path) == ["ops-ticket-7"]  # the read-back
    audited = AuditEvent.objects.filter(request_id="ops-ticket-7")
    assert set(audited.values_list("action", flat=True)) == {"job.hold", AuditEvent.REQUEST}


def test_a_generated_request_id_reaches_hwa_too(synced, operator) -> None:
    job = waiting_job(synced)
    synced.reset_counts()

    response = _client_for(operator).post(url(job, "hold"))

    assert synced.request_ids("PUT") == [response["X-Request-ID"]]


def test_a_superuser_may_act(synced, admin_client_api) -> None:
    job = waiting_job(synced)

    assert admin_client_api.post(url(job, "hold")).status_code == 200


def test_hwa_refusing_is_a_4xx_problem_and_recorded(synced, operator) -> None:
    job = waiting_job(synced)  # not held, so it cannot be released

    response = _client_for(operator).post(url(job, "release"))

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert "is not held" in response.json()["detail"]
    assert JobAction.objects.get().outcome == "refused"
    assert AuditEvent.objects.filter(action="job.release", outcome="refused").exists()


def test_an_unknown_action_is_a_404_problem(synced, operator) -> None:
    response = _client_for(operator).post(url(waiting_job(synced), "explode"))

    assert response.status_code == 404
    assert "explode" in response.json()["detail"]


def test_plan_responses_say_how_fresh_the_mirror_is(synced, viewer_client) -> None:
    response = viewer_client.get("/api/v1/jobs/")

    assert response[SYNC_STATUS_HEADER] == "ok"
    assert response[SYNCED_AT_HEADER].startswith("20")


def test_the_mirror_is_served_when_hwa_is_down(synced, hwa, viewer_client) -> None:
    from apps.core.selectors.sync import freshness_reset

    synced.set_faults(refuse_connections=True)
    run = plan_sync(client=hwa)
    freshness_reset()

    response = viewer_client.get("/api/v1/jobs/")

    assert run.status == "failed"
    assert response.status_code == 200
    assert response.json()["count"] == Job.objects.count() > 0
    assert response[SYNC_STATUS_HEADER] == "failed"
    assert SYNCED_AT_HEADER in response


@pytest.mark.django_db(transaction=True)  # real commits: the generation moves on commit
def test_the_very_next_reads_after_an_action_show_its_outcome(synced, operator) -> None:
    client = _client_for(operator)
    job = waiting_job(synced)
    reads = {
        "job": f"/api/v1/jobs/{job.pk}/",
        "held jobs": "/api/v1/jobs/?status=Held&page_size=500",
        "summary": "/api/v1/jobs/status/",
    }
    for path in reads.values():
        client.get(path)
    before = {name: client.get(path) for name, path in reads.items()}
    assert {r[CACHE_HEADER] for r in before.values()} == {"hit"}  # all served from the cache

    assert client.post(url(job, "hold")).status_code == 200

    after = {name: client.get(path).json() for name, path in reads.items()}
    assert after["job"]["internal_state"] == "HOLD"
    assert job.pk in {row["id"] for row in after["held jobs"]["results"]}
    held_before = before["summary"].json()["by_status"].get("Held", 0)
    assert after["summary"]["by_status"]["Held"] == held_before + 1
