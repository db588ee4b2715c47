"""The console's sign-in: any role may use it, and it is guarded like every login path."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from apps.monitoring.models import AuditEvent
from apps.security.login import is_login_request
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_viewer_without_the_staff_flag_signs_in_and_lands_where_they_were_going(client, viewer):
    response = client.post(
        reverse("console-login"),
        {"username": viewer.username, "password": PASSWORD, "next": "/jobs/?status=Error"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/jobs/?status=Error"
    assert client.get("/jobs/?status=Error").status_code == 200


def test_a_wrong_password_is_refused_and_audited(client, viewer):
    response = client.post(
        reverse("console-login"), {"username": viewer.username, "password": "guess"}
    )

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert AuditEvent.objects.filter(action__startswith="login", outcome="failed").exists()


def test_the_console_sign_in_is_a_guarded_login_path():
    request = RequestFactory().post(reverse("console-login"), {"username": "x"})

    assert is_login_request(request)


def test_signing_out_ends_the_session(client, viewer):
    client.force_login(viewer)

    response = client.post(reverse("console-logout"))

    assert response["Location"] == reverse("console-login")
    assert client.get(reverse("console-jobs")).status_code == 302
