"""The plan admin: the job page shows the high-level status, in colour and in words."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils.text import slugify

from apps.core.admin.plan import JOB_STATUS_CSS
from apps.core.states import JobStatus
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db
JOBS = "/admin/core/job/"


@pytest.fixture
def staff_viewer(client, administrator):
    client.force_login(administrator)  # staff, and holds the plan
    return client


def test_the_job_page_shows_the_high_level_status_as_a_colour_and_text(staff_viewer):
    job = JobFactory(internal_state="ABEND")

    page = staff_viewer.get(reverse("admin:core_job_change", args=[job.pk])).content.decode()

    assert '<span class="job-status job-status--error">Error</span>' in page
    assert JOB_STATUS_CSS in page  # the colours' stylesheet (the CSP refuses inline styles)
    assert "ABEND" in page  # the internal state stays shown too


@pytest.mark.parametrize(
    ("state", "css_class", "text"),
    [
        ("SUCC", "job-status--successful", JobStatus.SUCCESSFUL),
        ("HOLD", "job-status--held", JobStatus.HELD),
        ("SUPPR", "job-status--suppressed-by-condition", JobStatus.SUPPRESSED),
        ("NEWSTATE", "job-status--undecided", JobStatus.UNDECIDED),
    ],
)
def test_each_status_has_its_class_in_the_job_list(staff_viewer, state, css_class, text):
    JobFactory(internal_state=state)

    page = staff_viewer.get(JOBS).content.decode()

    assert f'<span class="job-status {css_class}">{text}</span>' in page


def test_every_status_has_a_colour_in_the_stylesheet():
    css = Path(finders.find(JOB_STATUS_CSS)).read_text()

    assert [s for s in JobStatus.values if f".job-status--{slugify(s)}::before" not in css] == []
