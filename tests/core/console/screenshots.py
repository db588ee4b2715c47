"""`make screenshots`: a PNG of each console page at 1280 px (and the overview at 768 px) in
docs/screenshots/ (or $SCREENSHOTS_DIR), so reviewers can see the console without running it.

Run by pytest on purpose (`pytest tests/core/console/screenshots.py`; the name keeps it out
of the suite): it borrows the suite's live server, its database and the headless Chromium
of tests/security/test_csp_browser.py, and fails if a page breaks the CSP or logs an error.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from apps.core.models import Job
from apps.core.services.demo_plan import demo_plan_load
from tests.conftest import _with_role
from tests.core.console.test_browser import _ask, _ask_again, sign_in
from tests.security.test_csp_browser import assert_none
from tests.security.test_csp_browser import pytestmark as browser_marks

pytestmark = browser_marks
OUT = Path(os.environ.get("SCREENSHOTS_DIR") or Path(settings.BASE_DIR) / "docs" / "screenshots")
JOBS = 5000


def _shoot(browser, name: str, width: int) -> Path:
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, max(600, min(height + 120, 4000)))
    path = OUT / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def test_screenshots(browser, visit, llm):
    demo_plan_load(jobs=JOBS, seed=1)
    _with_role("operator", "administrator")
    job = Job.objects.filter(status="Error").order_by("-rerun_count", "id").first()
    pages = {
        "overview": ("/", "#live .counts"),
        "jobs": (f"{reverse('console-jobs')}?status=Error&status=Running&ordering=-start", ".jobs"),
        "job": (reverse("console-job", args=[job.pk]), ".fields-list"),
        "streams": (reverse("console-streams"), ".grid"),
        "workstations": (reverse("console-workstations"), ".grid"),
        "system": (reverse("console-system"), "#live .grid"),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(1280, 900)
    problems = {"login": visit(reverse("console-login"), "form")}
    _shoot(browser, "login", 1280)
    problems["sign-in"] = sign_in(browser, visit, "operator")
    for name, (path, ready) in pages.items():
        browser.set_window_size(1280, 900)
        problems[name] = visit(path, ready)
        _shoot(browser, name, 1280)
    browser.set_window_size(1280, 900)
    problems["assistant"] = visit(reverse("console-assistant"), "form.ask")
    _ask(browser, "how many jobs are held?")
    _ask_again(browser, f"hold job {Job.objects.filter(status='Waiting').first().name}")
    problems["assistant"] += visit.problems()
    _shoot(browser, "assistant", 1280)
    browser.set_window_size(768, 900)
    problems["overview-768"] = visit("/", "#live .counts")
    _shoot(browser, "overview-768", 768)
    browser.set_window_size(1280, 1000)
    assert_none(problems)
    assert {p.stem for p in OUT.glob("*.png")} >= {*pages, "login", "assistant", "overview-768"}
