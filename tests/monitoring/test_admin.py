"""The security events admin: auditors read it; nobody adds, changes or deletes a row."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.monitoring.models import SecurityEvent
from apps.monitoring.services import security_events_flush
from tests.factories import UserFactory

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
