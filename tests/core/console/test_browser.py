"""The console in headless Chromium under the real CSP: every page for every role with no
console error and no CSP violation; a job held from its page; the overview refreshing by
itself after a sync. The browser and the collector are tests/security/test_csp_browser.py's.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from apps.core.models import Job
from apps.core.services.demo_plan import demo_plan_load
from apps.core.services.sync import plan_sync
from tests.conftest import _with_role
from tests.factories import PASSWORD
from tests.security.test_csp_browser import WAIT_S, assert_none
from tests.security.test_csp_browser import pytestmark as browser_marks

# Slow, transactional, skipped without Chromium (the `browser` and `visit` fixtures come
# from tests/security/test_csp_browser.py through this folder's conftest).
pytestmark = browser_marks

PLAN_PAGES = {
    "/": "#live .counts",
    "/jobs/": "table.jobs",
    "/jobs/?status=Error&ordering=-start": "table.jobs",
    "/streams/": "table.grid",
    "/workstations/": "table.grid",
    "/assistant/": "form.ask",
}
SYSTEM_PAGES = {"/system/": "#live .grid"}
PAGES_BY_ROLE = {
    "viewer": PLAN_PAGES,
    "operator": PLAN_PAGES,
    "administrator": {**PLAN_PAGES, **SYSTEM_PAGES},
    "auditor": SYSTEM_PAGES,
}


def sign_in(browser, visit, username: str, path: str = "/") -> list[str]:
    """Sign in through the console's form, landing on `path`; the problems met on the way."""
    login = f"{reverse('console-login')}?next={path}"
    found = visit(login, "form")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main [type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(expected_conditions.url_changes(visit.url(login)))
    return found + visit.problems()


@pytest.fixture
def demo_plan(db):
    demo_plan_load(jobs=300, seed=7)


@pytest.mark.parametrize("role", list(PAGES_BY_ROLE))
def test_every_page_renders_for_each_role_within_the_policy(browser, visit, demo_plan, role):
    _with_role(role, role)
    job = Job.objects.filter(status="Error").first()
    pages = dict(PAGES_BY_ROLE[role])
    if "/jobs/" in pages:
        pages[reverse("console-job", args=[job.pk])] = ".fields-list"

    problems = {"sign-in": sign_in(browser, visit, role)}
    problems |= {path: visit(path, ready) for path, ready in pages.items()}

    assert_none(problems)


def test_a_viewer_sees_no_action_buttons(browser, visit, demo_plan):
    _with_role("viewer", "viewer")
    job = Job.objects.filter(status="Waiting").first()
    sign_in(browser, visit, "viewer")

    assert visit(reverse("console-job", args=[job.pk]), ".fields-list", job.name) == []
    assert browser.find_elements(By.CSS_SELECTOR, "button.action") == []


def test_an_operator_holds_a_job_from_its_page_and_sees_the_new_state(browser, visit, sim, hwa):
    plan_sync(client=hwa)
    _with_role("operator", "operator")
    simulated = next(j for j in sim.plan.jobs if j.state == "WAIT")
    job = Job.objects.get(hwa_id=simulated.hwa_id)
    path = reverse("console-job", args=[job.pk])
    problems = {"sign-in": sign_in(browser, visit, "operator")}
    problems[path] = visit(path, ".fields-list", "WAIT")

    browser.find_element(By.CSS_SELECTOR, "button.action-hold").click()
    alert = WebDriverWait(browser, WAIT_S).until(expected_conditions.alert_is_present())
    assert alert.text == f"Hold job {job.name} in HWA?"
    alert.accept()
    WebDriverWait(browser, WAIT_S).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".message-success"))
    )
    problems["after hold"] = visit.problems()

    assert "State now: HOLD." in browser.find_element(By.CSS_SELECTOR, ".messages").text
    assert "HOLD" in browser.find_element(By.CSS_SELECTOR, ".fields-list").text
    assert sim.plan.job(job.hwa_id).state == "HOLD"
    assert_none(problems)


def test_the_overview_updates_by_itself_after_a_sync_changes_the_plan(browser, visit, sim, hwa):
    plan_sync(client=hwa)
    _with_role("viewer", "viewer")
    problems = {"sign-in": sign_in(browser, visit, "viewer")}
    problems["/"] = visit("/", "#live .counts")
    held = browser.find_element(By.CSS_SELECTOR, ".count.st-held .count-n").text
    browser.execute_script("window.notReloaded = true")
    waiting = [j for j in sim.plan.jobs if j.state == "WAIT"][:3]

    for job in waiting:
        hwa.job_action(job.hwa_id, "hold")
    plan_sync(client=hwa)

    expected = str(int(held) + len(waiting))
    WebDriverWait(browser, WAIT_S).until(
        expected_conditions.text_to_be_present_in_element(
            (By.CSS_SELECTOR, ".count.st-held .count-n"), expected
        )
    )
    problems["/ refreshed"] = visit.problems()
    assert browser.execute_script("return window.notReloaded") is True  # swapped in place
    assert_none(problems)


def test_auto_refresh_can_be_paused(browser, visit, demo_plan):
    _with_role("viewer", "viewer")
    sign_in(browser, visit, "viewer")
    visit("/", "#live .counts")
    toggle = browser.find_element(By.CSS_SELECTOR, ".refresh-toggle")

    toggle.send_keys("\n")  # from the keyboard

    assert toggle.get_attribute("aria-pressed") == "true"
    assert browser.find_element(By.CSS_SELECTOR, ".refresh-state").text == "Auto-refresh paused"


# The page, not a wide table in its own scroll box, must fit: tables scroll inside `.scroll`.
PAGE_OVERFLOW = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
# Everything a user acts on, and whether the keyboard can reach it.
UNREACHABLE = """
return [...document.querySelectorAll('a[href], button, input, select, summary')]
  .filter(e => e.offsetParent !== null && (e.tabIndex < 0 || e.disabled))
  .map(e => e.outerHTML.slice(0, 80));
"""


@pytest.mark.parametrize("width", [768, 1280])
def test_pages_fit_a_tablet_and_a_laptop_and_the_keyboard_reaches_every_control(
    browser, visit, demo_plan, width
):
    _with_role("administrator", "administrator")
    job = Job.objects.filter(status="Error").first()
    pages = {**PLAN_PAGES, **SYSTEM_PAGES, reverse("console-job", args=[job.pk]): ".fields-list"}
    browser.set_window_size(width, 1000)
    try:
        problems = {"sign-in": sign_in(browser, visit, "administrator")}
        for path, ready in pages.items():
            problems[path] = visit(path, ready)
            overflow = browser.execute_script(PAGE_OVERFLOW)
            if overflow > 0:
                problems[path].append(f"the page is {overflow} px wider than {width} px")
            problems[path] += [
                f"not keyboard-reachable: {html}" for html in browser.execute_script(UNREACHABLE)
            ]
        # The first Tab lands on the skip link, which leads to the content.
        browser.find_element(By.TAG_NAME, "body").send_keys("\t")
        focused = browser.switch_to.active_element
        assert focused.get_attribute("class") == "skip"
    finally:
        browser.set_window_size(1280, 1000)
    assert_none(problems)


def _ask(browser, question: str):
    browser.find_element(By.ID, "prompt").send_keys(question)
    browser.find_element(By.CSS_SELECTOR, "form.ask [type=submit]").click()
    return WebDriverWait(browser, WAIT_S).until(
        expected_conditions.presence_of_element_located(
            (By.CSS_SELECTOR, ".transcript .turn-assistant, .transcript .turn-error")
        )
    )


def _ask_again(browser, question: str):
    before = len(browser.find_elements(By.CSS_SELECTOR, ".transcript .turn-assistant"))
    browser.find_element(By.ID, "prompt").send_keys(question)
    browser.find_element(By.CSS_SELECTOR, "form.ask [type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, ".transcript .turn-assistant")) > before
    )
    return browser.find_elements(By.CSS_SELECTOR, ".transcript .turn-assistant")[-1]


def test_a_viewer_asks_the_assistant_and_reads_the_answer_as_text(browser, visit, llm, demo_plan):
    _with_role("viewer", "viewer")
    problems = {"sign-in": sign_in(browser, visit, "viewer")}
    problems["/assistant/"] = visit(reverse("console-assistant"), "form.ask")
    held = Job.objects.filter(status="Held").count()

    answer = _ask(browser, "how many jobs are held?")

    assert "turn-assistant" in answer.get_attribute("class"), answer.text
    assert f"{held} jobs are Held" in answer.text

    help_text = _ask_again(browser, "what can you do?")  # the help lists `<status>` patterns
    assert "how many jobs are <status>" in help_text.text
    problems["answered"] = visit.problems()
    assert_none(problems)


def test_an_operator_confirms_a_proposed_hold_from_the_assistant_page(
    browser, visit, llm, sim, hwa
):
    plan_sync(client=hwa)
    _with_role("operator", "operator")
    simulated = next(j for j in sim.plan.jobs if j.state == "WAIT")
    job = Job.objects.get(hwa_id=simulated.hwa_id)
    problems = {"sign-in": sign_in(browser, visit, "operator")}
    problems["/assistant/"] = visit(reverse("console-assistant"), "form.ask")

    answer = _ask(browser, f"hold job {job.name}")
    answer.find_element(By.CSS_SELECTOR, "button.action-hold").click()
    WebDriverWait(browser, WAIT_S).until(expected_conditions.alert_is_present()).accept()
    outcome = WebDriverWait(browser, WAIT_S).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".proposal .outcome"))
    )

    assert outcome.text.startswith("ok"), outcome.text
    assert sim.plan.job(job.hwa_id).state == "HOLD"
    problems["confirmed"] = visit.problems()
    assert_none(problems)
