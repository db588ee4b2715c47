"""The admin: each page's permission, users and roles edited safely and audited."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.forms import MultiWidget
from django.urls import reverse
from rest_framework.test import APIClient

from apps.core.models import ConnectionPoolConfig
from apps.monitoring.models import AuditEvent
from apps.security.models import TokenFamily
from apps.security.permissions import ADMINISTER, VIEW_MONITORING
from apps.security.roles import OPERATOR, VIEWER
from tests.conftest import _with_role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

AUDIT_LOG = "/admin/monitoring/auditevent/"
POOLS = "/admin/core/connectionpoolconfig/"
USERS = "/admin/auth/user/"
JOBS = "/admin/core/job/"


def logged_in(client, user):
    client.force_login(user)
    return client


def form_data(response) -> dict:
    """What the admin form on `response` would post back unchanged."""
    form = response.context["adminform"].form
    data = {}
    for field in form:
        value = field.value()
        widget = field.field.widget
        if isinstance(widget, MultiWidget):
            parts = value if isinstance(value, list | tuple) else widget.decompress(value)
            data.update({f"{field.html_name}_{i}": part or "" for i, part in enumerate(parts)})
        elif isinstance(value, list | tuple):
            data[field.html_name] = [getattr(item, "pk", item) for item in value]
        elif isinstance(value, bool):
            if value:
                data[field.html_name] = "on"
        elif value is not None:
            data[field.html_name] = value
    return data


def test_every_admin_page_declares_its_permission():
    undeclared = [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if not getattr(model_admin, "required_permission", "")
    ]
    assert not undeclared


def test_an_auditor_reads_the_audit_log_but_no_configuration(client, auditor):
    logged_in(client, auditor)

    assert client.get(AUDIT_LOG).status_code == 200
    assert client.get(POOLS).status_code == 403
    assert client.get(USERS).status_code == 403
    index = client.get("/admin/").content.decode()
    assert "Audit events" in index
    assert "Connection pool configs" not in index


def test_an_administrator_edits_pools_and_users(client, administrator):
    logged_in(client, administrator)

    row = ConnectionPoolConfig.objects.get(name="redis")
    url = reverse("admin:core_connectionpoolconfig_change", args=[row.pk])
    assert client.post(url, {**row.values(), "max_size": 24}).status_code == 302
    assert client.get(USERS).status_code == 200


def test_the_staff_flag_alone_opens_nothing(client):
    logged_in(client, UserFactory(username="staffonly", is_staff=True))

    assert client.get(JOBS).status_code == 403
    assert client.get(AUDIT_LOG).status_code == 403
    assert client.get("/admin/").context["app_list"] == []


def test_a_staff_viewer_sees_a_job_with_its_events(client):
    from tests.factories import JobStatusEventFactory

    event = JobStatusEventFactory(to_state="ABEND")
    logged_in(client, _with_role("staffviewer", VIEWER, is_staff=True))

    page = client.get(reverse("admin:core_job_change", args=[event.job.pk]))

    assert page.status_code == 200
    assert "ABEND" in page.content.decode()
    assert client.get(POOLS).status_code == 403


def test_a_role_without_the_staff_flag_does_not_enter_the_admin(client, viewer):
    logged_in(client, viewer)

    assert client.get(JOBS).status_code == 302  # to the login page


def test_a_model_permission_is_not_the_administrator_permission(client):
    user = UserFactory(username="modeller", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_connectionpoolconfig"))
    logged_in(client, user)

    assert client.get(POOLS).status_code == 403


# --- Users and roles -------------------------------------------------------------------


def test_changing_a_users_roles_in_the_admin_is_audited(client, administrator):
    bob = _with_role("bob", VIEWER)
    logged_in(client, administrator)
    url = reverse("admin:auth_user_change", args=[bob.pk])
    data = form_data(client.get(url))
    data["groups"] = [Group.objects.get(name=OPERATOR).pk]

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = AuditEvent.objects.get(action="user.update")
    assert (event.actor, event.source, event.target) == (administrator, "admin", "user:bob")
    assert (event.before, event.after) == ({"groups": [VIEWER]}, {"groups": [OPERATOR]})
    assert event.request_id == response["X-Request-ID"]


def test_an_administrator_cannot_make_a_superuser(client, administrator):
    bob = _with_role("bob", VIEWER)
    logged_in(client, administrator)
    url = reverse("admin:auth_user_change", args=[bob.pk])
    data = {**form_data(client.get(url)), "is_superuser": "on"}

    assert client.post(url, data).status_code == 302
    bob.refresh_from_db()
    assert not bob.is_superuser


def test_an_administrator_cannot_change_a_superuser(client, administrator, admin_user):
    logged_in(client, administrator)
    url = reverse("admin:auth_user_change", args=[admin_user.pk])
    password_url = reverse("admin:auth_user_password_change", args=[admin_user.pk])

    assert client.post(url, {"username": "root", "is_active": ""}).status_code == 403
    assert (
        client.post(password_url, {"password1": "x" * 20, "password2": "x" * 20}).status_code == 403
    )
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_a_password_change_in_the_admin_is_audited_and_ends_the_users_tokens(client, administrator):
    bob = _with_role("bob", VIEWER)
    tokens = (
        APIClient().post("/api/v1/auth/token/", {"username": "bob", "password": PASSWORD}).json()
    )
    logged_in(client, administrator)
    url = reverse("admin:auth_user_password_change", args=[bob.pk])
    new = "a-brand-new-password-41"

    response = client.post(url, {"password1": new, "password2": new, "usable_password": "true"})

    assert response.status_code == 302
    assert AuditEvent.objects.get(action="user.password_change").target == "user:bob"
    again = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert again.status_code == 401


def test_changing_a_roles_permissions_is_audited_and_applies_at_once(client, administrator):
    from rest_framework_simplejwt.tokens import AccessToken

    bob = _with_role("bob", VIEWER)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(bob)}")
    assert api.get("/api/v1/pools/stats/").status_code == 403
    viewer_role = Group.objects.get(name=VIEWER)
    logged_in(client, administrator)
    url = reverse("admin:auth_group_change", args=[viewer_role.pk])
    data = form_data(client.get(url))
    monitoring = Permission.objects.get(codename="view_monitoring")
    data["permissions"] = [*data["permissions"], monitoring.pk]

    assert client.post(url, data).status_code == 302

    event = AuditEvent.objects.get(action="role.update")
    assert event.target == f"role:{VIEWER}"
    assert event.after == {"permissions": ["security.view_monitoring", "security.view_plan"]}
    assert api.get("/api/v1/pools/stats/").status_code == 200


def test_the_role_list_shows_each_roles_permissions_and_members(client, administrator):
    _with_role("bob", VIEWER)
    logged_in(client, administrator)

    page = client.get("/admin/auth/group/").content.decode()

    assert ADMINISTER in page
    assert VIEW_MONITORING in page
    change = client.get(
        reverse("admin:auth_group_change", args=[Group.objects.get(name=VIEWER).pk])
    )
    assert "security.view_plan: Can read the plan" in change.content.decode()


def test_adding_a_user_in_the_admin_is_audited(client, administrator):
    logged_in(client, administrator)
    password = "a-fresh-password-93"
    data = {"username": "carol", "password1": password, "password2": password}

    response = client.post(reverse("admin:auth_user_add"), {**data, "usable_password": "true"})

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user.create")
    assert (event.actor, event.target, event.before) == (administrator, "user:carol", None)
    assert event.after["groups"] == []
    assert event.after["is_superuser"] is False


def test_deleting_a_user_in_the_admin_is_audited(client, administrator):
    bob = _with_role("bob", VIEWER)
    logged_in(client, administrator)

    response = client.post(reverse("admin:auth_user_delete", args=[bob.pk]), {"post": "yes"})

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user.delete")
    assert (event.target, event.before["groups"], event.after) == ("user:bob", [VIEWER], None)


# --- Tokens ----------------------------------------------------------------------------


def test_no_admin_page_shows_a_stored_refresh_token(client, admin_user, viewer):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    refresh = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": "viewer", "password": PASSWORD})
        .json()["refresh"]
    )
    row = OutstandingToken.objects.get(user=viewer)
    logged_in(client, admin_user)

    page = client.get(reverse("admin:token_blacklist_outstandingtoken_change", args=[row.pk]))

    assert page.status_code == 200
    assert row.jti in page.content.decode()
    assert refresh.split(".")[2] not in page.content.decode()
    assert row.token.split(".")[2] not in page.content.decode()


def test_an_administrator_revokes_a_sign_in(client, administrator, viewer):
    tokens = (
        APIClient().post("/api/v1/auth/token/", {"username": "viewer", "password": PASSWORD}).json()
    )
    family = TokenFamily.objects.get(user=viewer)
    logged_in(client, administrator)

    client.post(
        "/admin/security/tokenfamily/", {"action": "revoke", "_selected_action": [family.pk]}
    )

    family.refresh_from_db()
    assert family.revoked_reason == TokenFamily.Reason.ADMIN
    again = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert again.status_code == 401
    assert AuditEvent.objects.get(action="auth.family_revoke").actor == administrator
