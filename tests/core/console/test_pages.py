"""Every console page, per role: who may open it, what it shows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.models import Job
from apps.security.permissions import VIEW_PLAN
from tests.core.console.conftest import signed_in

pytestmark = pytest.mark.django_db

PLAN_PAGES = [
    "home",
    "console-overview-live",
    "console-jobs",
    "console-streams",
    "console-workstations",
]
SYSTEM_PAGES = ["console-system", "console-system-live"]


def _job_page() -> str:
    return reverse("console-job", args=[Job.objects.order_by("id").first().pk])


@pytest.mark.parametrize("name", [*PLAN_PAGES, *SYSTEM_PAGES])
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console-login") + "?next=")


@pytest.mark.parametrize("role", ["viewer", "operator", "administrator"])
def test_plan_readers_open_every_plan_page(request, plan, role):
    client = signed_in(request.getfixturevalue(role))

    for path in [reverse(name) for name in PLAN_PAGES] + [_job_page()]:
        response = client.get(path)
        assert response.status_code == 200, path


def test_an_auditor_lands_on_system_and_cannot_read_the_plan(plan, auditor):
    client = signed_in(auditor)

    assert client.get(reverse("home"))["Location"] == reverse("console-system")
    for path in [reverse("console-jobs"), _job_page(), reverse("console-streams")]:
        response = client.get(path)
        assert response.status_code == 403
        assert VIEW_PLAN in response.content.decode()
    assert client.get(reverse("console-system")).status_code == 200


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_plan_readers_without_monitoring_do_not_see_system(request, role):
    client = signed_in(request.getfixturevalue(role))

    page = client.get(reverse("home")).content.decode()

    assert f'href="{reverse("console-system")}"' not in page
    assert client.get(reverse("console-system")).status_code == 403
    assert client.get(reverse("console-system-live")).status_code == 403


def test_a_user_without_a_role_is_told_to_ask_for_one(outsider):
    response = signed_in(outsider).get(reverse("home"))

    assert response.status_code == 403
    assert "Ask an administrator for a role" in response.content.decode()


def test_an_administrator_sees_health_pools_cache_and_audit(administrator):
    page = signed_in(administrator).get(reverse("console-system")).content.decode()

    for heading in ("Health:", "Connection pools", "Cache", "Open alerts", "Recent audit events"):
        assert heading in page
    assert "database" in page


def test_a_password_change_signs_the_console_session_out(plan, viewer):
    client = signed_in(viewer)
    assert client.get(reverse("console-jobs")).status_code == 200

    viewer.set_password("a new one entirely")
    viewer.save()

    response = client.get(reverse("console-jobs"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console-login"))


def test_a_revoked_role_closes_the_pages_at_once(plan, viewer):
    client = signed_in(viewer)
    assert client.get(reverse("console-jobs")).status_code == 200

    viewer.groups.clear()

    assert client.get(reverse("console-jobs")).status_code == 403


def test_a_deactivated_user_is_signed_out(plan, viewer):
    client = signed_in(viewer)
    assert client.get(reverse("console-jobs")).status_code == 200

    viewer.is_active = False
    viewer.save()

    assert client.get(reverse("console-jobs")).status_code == 302


def test_every_console_page_declares_its_permission():
    from apps.core.console.access import ConsoleView
    from apps.core.console.urls import urlpatterns

    pages = [
        p.callback.view_class for p in urlpatterns if issubclass(p.callback.view_class, ConsoleView)
    ]
    undeclared = [view.__name__ for view in pages if not view.required_permission]

    assert len(pages) >= 8
    assert not undeclared
