"""The site's root: a landing page that links the admin, the API docs and health."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_root_is_a_landing_page_linking_admin_docs_and_health(client):
    page = client.get("/")

    assert page.status_code == 200
    html = page.content.decode()
    for name in ("admin:index", "api-docs", "schema", "health"):
        assert f'href="{reverse(name)}"' in html


def test_the_landing_page_passes_the_content_security_policy(client):
    page = client.get("/")

    assert "script-src 'self'" in page["Content-Security-Policy"]
    html = page.content.decode().lower()
    # The policy refuses inline scripts; keep styles out of the page too.
    assert "<script" not in html
    assert "<style" not in html
    assert " style=" not in html


def test_the_admins_view_site_link_goes_to_the_landing_page(client, admin_user):
    client.force_login(admin_user)

    page = client.get(reverse("admin:index"))

    assert page.context["site_url"] == reverse("home")
    assert f'<a href="{reverse("home")}">View site</a>' in page.content.decode()


def test_the_favicon_is_answered_so_browsers_log_no_404(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == static("core/favicon.svg")
    assert finders.find("core/favicon.svg")
