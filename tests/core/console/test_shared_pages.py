"""Pages kept whole per layout (apps/core/console/layout.py: page_shared): the overview and
the jobs list. Each user still gets their own layout, a fresh CSRF token, and their messages."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from apps.core.console.layout import CSRF_MARK
from apps.core.models import Job
from tests.core.console.conftest import signed_in

pytestmark = pytest.mark.django_db

SHARED = {
    "overview": lambda: reverse("home"),
    "jobs": lambda: f"{reverse('console-jobs')}?status=Error",
}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.mark.parametrize("page", list(SHARED))
def test_each_user_gets_their_own_layout_around_the_shared_content(plan, viewer, operator, page):
    url = SHARED[page]()

    mine = signed_in(viewer).get(url).content.decode()
    theirs = signed_in(operator).get(url).content.decode()

    assert f"<span>{viewer.username}</span>" in mine
    assert f"<span>{operator.username}</span>" in theirs
    assert viewer.username not in theirs


@pytest.mark.parametrize("page", list(SHARED))
def test_every_answer_carries_a_fresh_token_that_signs_out(plan, viewer, page):
    client = Client(enforce_csrf_checks=True)
    client.force_login(viewer)
    url = SHARED[page]()

    tokens = [TOKEN.search(client.get(url).content.decode()).group(1) for _ in range(2)]

    assert CSRF_MARK not in tokens
    assert tokens[0] != tokens[1]  # masked anew for each response
    assert (
        client.post(reverse("console-logout"), {"csrfmiddlewaretoken": tokens[1]}).status_code
        == 302
    )


def test_a_waiting_message_is_shown_not_a_kept_page(plan, operator):
    client = signed_in(operator)
    url = SHARED["jobs"]()
    client.get(url)  # kept
    job = Job.objects.order_by("id").first()
    client.post(reverse("console-job", args=[job.pk]), {"action": "explode"})  # an error message

    page = client.get(url).content.decode()

    assert "Unknown job action" in page
    assert "Unknown job action" not in client.get(url).content.decode()  # shown once


def test_a_new_role_shows_in_the_menu_at_once(plan, viewer):
    client = signed_in(viewer)
    url = SHARED["overview"]()
    assert ">System</a>" not in client.get(url).content.decode()

    viewer.groups.add(Group.objects.get(name="administrator"))

    assert ">System</a>" in client.get(url).content.decode()
