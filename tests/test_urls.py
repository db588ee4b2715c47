"""The site's root: the operations console's overview (sign-in first)."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_root_sends_anonymous_visitors_to_the_console_sign_in(client):
    page = client.get("/")

    assert page.status_code == 302
    assert page["Location"] == f"{reverse('console-login')}?next=/"


def test_the_sign_in_page_passes_the_content_security_policy(client):
    page = client.get(reverse("console-login"))

    assert "script-src 'self'" in page["Content-Security-Policy"]
    html = page.content.decode().lower()
    # The policy refuses inline code: scripts and styles come from static files only.
    assert "<script>" not in html
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
