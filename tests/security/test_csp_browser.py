"""Every page Resync serves, loaded in headless Chromium under the real policy: no CSP
violation and no console error.

The live server is pytest-django's (this process, the suite's database, DEBUG off as in
production); it serves static files through Django's staticfiles finders. A script injected
before any page script (CDP `Page.addScriptToEvaluateOnNewDocument`) records each
`securitypolicyviolation` event; the browser's console log gives the errors.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from apps.cache.services import cache_config_update
from apps.core.models import HwaConnection
from apps.core.services.hwa import hwa_connection_save
from apps.core.services.pools import pool_config_update
from apps.security.roles import ROLES, VIEWER
from tests.factories import PASSWORD, JobFactory, UserFactory

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.slow,
    # Real commits: the browser's requests run in the server's thread. An earlier test's
    # flush may have removed the migrations' rows, so each test makes those it shows.
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="needs Chromium and chromedriver (apt-get install chromium chromium-driver)",
    ),
]

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const element = (event.target.outerHTML || "").slice(0, 200);
  window.cspViolations.push(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"}`
    + ` (${event.sourceFile}:${event.lineNumber}) ${element}`
  );
});
"""
WAIT_S = 20


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,1000")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def visit(browser, live_server):
    """visit(path, ready=CSS selector, showing=text) -> that page's CSP violations and console
    errors, and whether it is the page asked for (not a redirect to a login, not an error)."""
    browser.delete_all_cookies()
    browser.get_log("browser")  # drop what earlier tests left

    def load(path: str, ready: str = "body", showing: str = "") -> list[str]:
        browser.get(live_server.url + path)
        found = problems(ready)
        landed = browser.current_url.removeprefix(live_server.url)
        if landed != path:
            found.append(f"landed on {landed}")
        text = browser.find_element(By.CSS_SELECTOR, ready).text
        if showing not in text:
            found.append(f"{ready} does not show {showing!r}: {text[:200]!r}")
        return found

    def problems(ready: str = "body") -> list[str]:
        WebDriverWait(browser, WAIT_S).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ready))
        )
        found = list(browser.execute_script("return window.cspViolations.splice(0)"))
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        return found + [f"console: {entry['message']}" for entry in errors]

    load.problems = problems
    load.url = lambda path: live_server.url + path
    return load


def _role(name: str) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    for permission in ROLES[name]:
        app_label, codename = permission.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return group


def assert_none(problems: dict[str, list[str]]) -> None:
    found = {page: found for page, found in problems.items() if found}
    report = "\n".join(f"{page}:\n  " + "\n  ".join(lines) for page, lines in found.items())
    assert not found, report


def _log_in(browser, visit, path: str, username: str) -> list[str]:
    """Sign in through the form at `path`: the problems of the form and of the next page."""
    found = visit(path)
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    form_url = browser.current_url
    browser.find_element(By.CSS_SELECTOR, "[type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(expected_conditions.url_changes(form_url))
    return found + visit.problems()


def test_the_collector_sees_what_the_policy_refuses(browser, visit):
    # Without this, an empty list below could mean a collector that records nothing.
    assert visit(reverse("console-login")) == []
    browser.execute_script(
        "document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')"
    )
    assert any(v.startswith("style-src-attr refused inline") for v in visit.problems())


def test_the_public_pages_keep_to_the_policy(browser, visit):
    pages = {
        reverse("console-login"): "form",
        reverse("admin:login"): "#login-form",
        reverse("rest_framework:login"): "form",
        reverse("api-docs"): ".opblock",  # Swagger UI drew the schema it fetched
    }
    problems = {path: visit(path, ready) for path, ready in pages.items()}
    # Try one operation: Swagger UI draws parameters and responses on demand, and calls the API.
    health = reverse("health")
    browser.find_element(By.CSS_SELECTOR, f"[data-path='{health}']").click()
    browser.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    browser.find_element(By.CSS_SELECTOR, ".execute").click()
    problems[f"api docs, {health} tried"] = visit.problems(".live-responses-table")
    assert_none(problems)


def test_the_admin_keeps_to_the_policy(browser, visit):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    job = JobFactory()
    hwa = HwaConnection(base_url="https://hwa.example/twsd", username="resync")
    hwa_connection_save(connection=hwa, actor=None, source="system", password="secret")
    pool = pool_config_update(name="database", values={}, actor=None, source="system")
    cache_config = cache_config_update(actor=None, source="system", values={})
    admin_pages = [
        reverse("admin:index"),
        reverse("admin:core_job_changelist"),
        reverse("admin:core_job_change", args=[job.pk]),
        reverse("admin:core_connectionpoolconfig_changelist"),
        reverse("admin:core_connectionpoolconfig_change", args=[pool.pk]),
        reverse("admin:resync_cache_cacheconfig_changelist"),
        reverse("admin:resync_cache_cacheconfig_change", args=[cache_config.pk]),
        reverse("admin:core_hwaconnection_changelist"),
        reverse("admin:core_hwaconnection_change", args=[hwa.pk]),
        reverse("admin:auth_user_changelist"),
        reverse("admin:auth_user_change", args=[admin.pk]),
        reverse("admin:auth_group_changelist"),
        reverse("admin:auth_group_add"),  # the permission picker: a widget drawn by script
    ]
    # The browsable API's forms (PUT, POST), which a viewer does not see.
    api_pages = [
        reverse("cache-config"),
        reverse("pool-config", args=["database"]),
        reverse("api-key-list"),
    ]
    problems = {"login": _log_in(browser, visit, reverse("admin:login"), admin.username)}
    problems |= {path: visit(path, "#content") for path in admin_pages}
    problems |= {path: visit(path, ".response-info", "HTTP 200 OK") for path in api_pages}
    assert_none(problems)


def test_the_browsable_api_keeps_to_the_policy(browser, visit):
    viewer = UserFactory(username="viewer")
    viewer.groups.add(_role(VIEWER))
    job = JobFactory()
    jobs = reverse("job-list")
    login = f"{reverse('rest_framework:login')}?next={jobs}"
    problems = {"login": _log_in(browser, visit, login, viewer.username)}
    for path in (
        jobs,
        f"{jobs}?ordering=-start",  # the filter dialog marks the ordering in use
        reverse("job-detail", args=[job.pk]),
        reverse("job-status-summary"),
    ):
        problems[path] = visit(path, ".response-info", "HTTP 200 OK")
    assert_none(problems)
