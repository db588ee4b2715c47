"""Junk in a console URL is a page saying what is wrong (400) or not found (404), never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.core.console.conftest import signed_in

pytestmark = pytest.mark.django_db

JUNK = [
    ("console-jobs", "?page=last-but-one&ordering=password", 200),
    ("console-jobs", "?page=99999999999999999999", 200),
    ("console-jobs", "?start_after=9999-12-31T23:59:59%2B16:00", 400),
    ("console-jobs", "?status=%00&q=" + "x" * 500, 400),
    ("console-jobs", "?internal_state=%F0%9F%92%A5&workstation=%27;--", 200),
    ("console-streams", "?scheduled_after=yesterday&state=NOPE", 400),
    ("console-streams", "?page=-1", 200),
    ("console-workstations", "?gone=maybe", 400),
    ("console-workstations", "?q=%00", 400),  # a NUL is refused by the form field
    ("home", "?refresh=%00", 200),
    ("console-assistant", "?conversation=%00", 404),
    ("console-assistant", "?conversation=99999999999999999999999", 404),
    ("console-assistant", "?conversation=-1", 404),
]


@pytest.mark.parametrize(("name", "query", "status"), JUNK)
def test_junk_parameters_get_a_clear_answer(plan, operator, name, query, status):
    response = signed_in(operator).get(reverse(name) + query)

    assert response.status_code == status, response.content[:300]


def test_an_unknown_job_is_a_404(plan, operator):
    assert signed_in(operator).get(reverse("console-job", args=[10**9])).status_code == 404
