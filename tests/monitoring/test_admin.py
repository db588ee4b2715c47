"""The security events admin: auditors read it; nobody adds, changes or deletes a row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.models import JobAction
from apps.monitoring.models import SecurityEvent
from apps.monitoring.services import audit_record, security_events_flush
from tests.factories import JobFactory, JobStreamFactory, UserFactory

pytestmark = pytest.mark.django_db

EVENTS = "/admin/monitoring/securityevent/"


@pytest.fixture
def event(frozen_clock) -> SecurityEvent:
    return SecurityEvent.objects.create(
        kind="xss", severity=3, ip="203.0.113.5", minute=frozen_clock,
        first_seen=frozen_clock, last_seen=frozen_clock, count=12, pattern="script-tag",
    )  # fmt: skip


def test_an_auditor_reads_security_events(client, auditor, event):
    client.force_login(auditor)

    listing = client.get(EVENTS, {"q": "203.0.113.5"})
    detail = client.get(reverse("admin:monitoring_securityevent_change", args=[event.pk]))

    assert listing.status_code == 200
    assert "script-tag" in listing.content.decode()
    assert detail.status_code == 200
    assert client.get(EVENTS + "add/").status_code == 403
    delete = reverse("admin:monitoring_securityevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert SecurityEvent.objects.filter(pk=event.pk).exists()


def test_staff_without_the_monitoring_permission_sees_nothing(client, event):
    staff = UserFactory(username="staffonly", is_staff=True)
    client.force_login(staff)

    assert client.get(EVENTS).status_code == 403


def test_a_suspicious_admin_request_names_the_signed_in_user(client, auditor):
    client.force_login(auditor)

    assert client.get(EVENTS, {"q": "<script>alert(1)</script>"}).status_code == 200
    security_events_flush()
    event = SecurityEvent.objects.get(kind="xss")
    assert (event.user, event.username) == (auditor, "auditor")


AUDIT_LOG = "/admin/monitoring/auditevent/"


def _job_action_audited(job, action: str = "job.hold") -> None:
    audit_record(actor=None, source="api", action=action, target=f"job:{job.hwa_id}")


def test_the_audit_list_names_jobs_instead_of_their_hwa_ids(client, auditor):
    job = JobFactory(name="PAYROLL_CALC", hwa_id="0c6f0b7e-5f0a-4a7e-9d51-2b1e6f0c9a11")
    gone = JobAction.objects.create(
        job_hwa_id="JOB-GONE-1", job_name="OLD_BACKUP", action="rerun", actor_name="op",
        outcome=JobAction.Outcome.OK,
    )  # fmt: skip
    _job_action_audited(job)
    audit_record(actor=None, source="api", action="job.rerun", target=f"job:{gone.job_hwa_id}")
    audit_record(actor=None, source="api", action="job.hold", target="job:NOT-KNOWN")
    audit_record(actor=None, source="admin", action="pool_config.update", target="pool:database")
    client.force_login(auditor)

    page = client.get(AUDIT_LOG).content.decode()

    assert f'<span title="job:{job.hwa_id}">job:PAYROLL_CALC</span>' in page
    assert '<span title="job:JOB-GONE-1">job:OLD_BACKUP</span>' in page  # left the plan
    assert "job:NOT-KNOWN" in page  # no name known: the target as stored
    assert "pool:database" in page


def _audit_list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(AUDIT_LOG).status_code == 200
    return len(queries)


def _jobs_acted_on(stream, *, in_plan: int, gone: int) -> None:
    """Audited actions on `in_plan` jobs of the plan and on `gone` jobs no longer in it."""
    for job in JobFactory.create_batch(in_plan, stream=stream):
        _job_action_audited(job)
    for _ in range(gone):
        hwa_id = f"JOB-GONE-{JobAction.objects.count()}"
        JobAction.objects.create(
            job_hwa_id=hwa_id, job_name=hwa_id.lower(), action="rerun", actor_name="op",
            outcome=JobAction.Outcome.OK,
        )  # fmt: skip
        audit_record(actor=None, source="api", action="job.rerun", target=f"job:{hwa_id}")


def test_the_audit_list_costs_the_same_queries_whatever_the_number_of_jobs(client, auditor):
    client.force_login(auditor)
    stream = JobStreamFactory()
    _jobs_acted_on(stream, in_plan=2, gone=1)
    _audit_list_queries(client)  # the first request reads the session, the user...

    few = _audit_list_queries(client)
    _jobs_acted_on(stream, in_plan=12, gone=6)
    many = _audit_list_queries(client)

    assert few == many
    page = client.get(AUDIT_LOG).content.decode()
    assert page.count("job:job-gone-") == 7  # every one named, none by a query of its own
