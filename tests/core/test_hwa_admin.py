"""The HWA connection admin: administrators only, no redirect of the stored password, and
"Test connection" under its own permission, against the saved URL only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from apps.core.admin.hwa import TEST_OK
from apps.core.models import HwaConnection
from apps.core.models.hwa import EDITABLE_FIELDS
from apps.core.services.hwa import REDIRECT_NEEDS_REENTRY
from apps.monitoring.models import AuditEvent
from apps.security.roles import ADMINISTRATOR
from tests.core.sync_fixtures import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/core/hwaconnection/"


def _form(connection: HwaConnection, **changes) -> dict:
    values = {field: getattr(connection, field) for field in EDITABLE_FIELDS}
    values.update(changes)
    return {
        key: ("on" if value is True else value)
        for key, value in values.items()
        if value is not False
    }


@pytest.fixture
def admin_page(client, administrator, hwa_connection):
    client.force_login(administrator)
    return client, reverse("admin:core_hwaconnection_change", args=[hwa_connection.pk])


def test_a_new_base_url_without_the_password_is_a_form_error(admin_page, hwa_connection):
    client, url = admin_page

    page = client.post(url, _form(hwa_connection, base_url="https://attacker.example/twsd"))

    assert page.status_code == 200
    assert page.context["adminform"].form.errors["new_password"] == [REDIRECT_NEEDS_REENTRY]
    assert HwaConnection.objects.get().base_url == hwa_connection.base_url


def test_turning_off_tls_without_the_password_is_a_form_error(admin_page, hwa_connection):
    client, url = admin_page

    page = client.post(url, _form(hwa_connection, verify_tls=False))

    assert page.status_code == 200
    assert "new_password" in page.context["adminform"].form.errors
    assert HwaConnection.objects.get().verify_tls


def test_a_new_base_url_with_the_password_is_saved_and_audited(admin_page, hwa_connection):
    client, url = admin_page
    data = _form(hwa_connection, base_url="https://hwa2.example/twsd", new_password=PASSWORD)

    assert client.post(url, data).status_code == 302

    assert HwaConnection.objects.get().base_url == "https://hwa2.example/twsd"
    event = AuditEvent.objects.get(action="hwa_connection.update", source="admin")
    assert event.after == {"base_url": "https://hwa2.example/twsd"}
    assert event.detail == "password entered again"


def test_test_connection_reaches_the_saved_simulator(admin_page, hwa_connection, sim):
    client, _url = admin_page
    sim.reset_counts()

    page = client.post(
        CHANGELIST,
        {"action": "test_connection", "_selected_action": [hwa_connection.pk]},
        follow=True,
    )

    messages = [str(m) for m in page.context["messages"]]
    assert any(m.startswith(TEST_OK.format(name="default", detail="Connected")) for m in messages)
    assert sim.request_count() > 0


def test_test_connection_needs_its_own_permission(client, hwa_connection, sim):
    config_only = Group.objects.create(name="config-only")
    config_only.permissions.add(Permission.objects.get(codename="administer"))
    user = UserFactory(username="configurer", is_staff=True)
    user.groups.add(config_only)
    client.force_login(user)
    sim.reset_counts()

    assert client.get(CHANGELIST).status_code == 200  # may configure the connection
    assert "test_connection" not in client.get(CHANGELIST).content.decode()
    client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [hwa_connection.pk]})
    assert sim.request_count() == 0


def test_the_administrator_role_may_test_the_connection():
    role = Group.objects.get(name=ADMINISTRATOR)
    assert role.permissions.filter(codename="test_hwa_connection").exists()
