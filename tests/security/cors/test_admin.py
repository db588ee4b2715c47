"""The CORS origins admin page: administrators only; saves, deletes and actions are audited."""

from __future__ import annotations

import pytest

from apps.security.cors.models import HAS_WILDCARD, CorsOrigin
from tests.security.conftest import audit_rows
from tests.security.cors.conftest import DISABLED, LISTED

pytestmark = pytest.mark.django_db

PAGE = "/admin/security/corsorigin/"


def test_an_administrator_adds_an_origin_in_the_admin(client, administrator):
    client.force_login(administrator)
    response = client.post(
        f"{PAGE}add/", {"origin": "HTTPS://Console.Example.com", "enabled": "on", "note": "console"}
    )
    assert response.status_code == 302, response.content[:2000]
    assert CorsOrigin.objects.get().origin == "https://console.example.com"
    [event] = audit_rows("cors_origin.create")
    assert (event.actor, event.source) == (administrator, "admin")


def test_the_admin_shows_why_an_origin_is_refused(client, administrator):
    client.force_login(administrator)
    response = client.post(f"{PAGE}add/", {"origin": "https://*.example.com", "enabled": "on"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"origin": [HAS_WILDCARD]}
    assert not CorsOrigin.objects.exists()


def test_an_edit_in_the_admin_is_audited_with_before_and_after(client, administrator, origins):
    client.force_login(administrator)
    response = client.post(
        f"{PAGE}{origins[LISTED]}/change/", {"origin": LISTED, "note": "now off"}
    )
    assert response.status_code == 302
    [event] = audit_rows("cors_origin.update")
    assert event.before == {"origin": LISTED, "enabled": True, "note": ""}
    assert event.after == {"origin": LISTED, "enabled": False, "note": "now off"}


def test_the_bulk_actions_go_through_the_service(client, administrator, origins):
    client.force_login(administrator)
    selected = [origins[LISTED], origins[DISABLED]]
    client.post(PAGE, {"action": "enable_selected", "_selected_action": selected})
    assert set(CorsOrigin.objects.values_list("enabled", flat=True)) == {True}
    client.post(PAGE, {"action": "delete_selected", "_selected_action": selected, "post": "yes"})
    assert not CorsOrigin.objects.exists()
    assert len(audit_rows("cors_origin.update")) == 1  # the disabled one; the other was on
    assert len(audit_rows("cors_origin.delete")) == 2


def test_only_administrators_open_the_page(client, auditor, origins):
    client.force_login(auditor)
    assert client.get(PAGE).status_code == 403
