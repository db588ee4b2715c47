"""Job actions from the job page, forwarded to the real simulator through the API's service."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.core.console.jobs import UNKNOWN_ACTION
from apps.core.models import Job, JobAction, JobStatusEvent
from apps.monitoring.models import AuditEvent
from tests.core.console.conftest import signed_in
from tests.core.sync_fixtures import waiting_job

pytestmark = pytest.mark.django_db


def _page(job: Job) -> str:
    return reverse("console-job", args=[job.pk])


def test_an_operator_holds_a_job_and_sees_the_new_state(synced, operator):
    job = waiting_job(synced)
    client = signed_in(operator)

    response = client.post(_page(job), {"action": "hold"}, follow=True)

    page = response.content.decode()
    assert response.redirect_chain == [(_page(job), 302)]
    assert f"HWA accepted hold of {job.name}" in page
    assert "State now: HOLD." in page
    assert synced.plan.job(job.hwa_id).state == "HOLD"
    assert JobStatusEvent.objects.filter(job=job, from_state="WAIT", to_state="HOLD").exists()
    assert JobAction.objects.get().actor == operator
    assert AuditEvent.objects.filter(action="job.hold", actor=operator, outcome="ok").exists()
    assert response.context["job"].internal_state == "HOLD"


def test_hwas_refusal_is_shown_verbatim(synced, operator):
    job = waiting_job(synced)  # not held, so it cannot be released

    response = signed_in(operator).post(_page(job), {"action": "release"}, follow=True)

    action = JobAction.objects.get()
    assert action.outcome == "refused"
    assert "is not held" in action.detail
    # HWA's words reach the operator exactly as recorded (escaped, as any text on a page).
    assert f"HWA did not release {job.name}: " in response.content.decode()
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [f"HWA did not release {job.name}: {action.detail}"]


def test_a_viewer_sees_no_buttons_and_a_forged_post_is_refused(synced, viewer):
    job = waiting_job(synced)
    client = signed_in(viewer)

    page = client.get(_page(job)).content.decode()
    response = client.post(_page(job), {"action": "hold"})

    assert 'name="action"' not in page
    assert response.status_code == 403
    assert synced.plan.job(job.hwa_id).state == "WAIT"
    assert not JobAction.objects.exists()


def test_an_operator_sees_the_four_buttons_with_a_confirmation(synced, operator):
    page = signed_in(operator).get(_page(waiting_job(synced))).content.decode()

    for action in ("rerun", "hold", "release", "cancel"):
        assert f'name="action" value="{action}"' in page
    assert page.count("data-confirm=") == 4
    assert "csrfmiddlewaretoken" in page


def test_a_post_without_the_csrf_token_is_refused(synced, operator):
    job = waiting_job(synced)
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)

    response = client.post(_page(job), {"action": "hold"})

    assert response.status_code == 403
    assert synced.plan.job(job.hwa_id).state == "WAIT"


def test_an_unknown_action_changes_nothing(synced, operator):
    job = waiting_job(synced)

    response = signed_in(operator).post(_page(job), {"action": "explode"}, follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        UNKNOWN_ACTION.format(action="explode")
    ]
    assert not JobAction.objects.exists()
