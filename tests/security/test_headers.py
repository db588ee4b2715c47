"""The security header set on every response, and no-store on every API response."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from django.test import override_settings
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.factories import JobFactory

pytestmark = pytest.mark.django_db

EXPECTED = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-XSS-Protection": "0",
}
POWERFUL = ("camera", "microphone", "geolocation", "payment", "usb", "display-capture", "hid")


def assert_full_set(response) -> None:
    for name, value in EXPECTED.items():
        assert response[name] == value, name
    policy = dict(item.split("=", 1) for item in response["Permissions-Policy"].split(", "))
    assert {feature: policy[feature] for feature in POWERFUL} == dict.fromkeys(POWERFUL, "()")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/health/", 200),
        ("/admin/login/", 200),
        ("/", 302),  # the console, to its sign-in page
        ("/login/", 200),
        ("/api/v1/jobs/", 401),
        ("/api/v1/no-such-endpoint/", 404),
        ("/no-such-page/", 404),
    ],
)
def test_every_response_carries_the_full_header_set(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_full_set(response)


def test_an_early_refusal_carries_it_too(client):
    response = client.post(
        "/api/v1/auth/token/", "{}", content_type="application/json", CONTENT_LENGTH=str(10**10)
    )
    assert response.status_code == 413
    assert_full_set(response)


@pytest.fixture
def chromium() -> Iterator[webdriver.Chrome]:
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("needs chromium and chromedriver (Debian packages)")
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The packaged driver: Selenium would otherwise try to download one.
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_chromium_knows_every_feature_the_policy_denies(chromium, live_server):
    # An unknown feature name is a console error in Chromium ("Unrecognized feature"), and a
    # sign the policy is not doing what it says.
    chromium.get(f"{live_server.url}/admin/login/")
    complaints = [
        entry["message"]
        for entry in chromium.get_log("browser")
        if "Permissions-Policy" in entry["message"]
    ]
    assert complaints == []


def test_authenticated_api_responses_are_not_stored_cached_plan_reads_included(viewer_client):
    JobFactory()
    first = viewer_client.get("/api/v1/jobs/status/")
    second = viewer_client.get("/api/v1/jobs/status/")
    assert (first["X-Resync-Cache"], second["X-Resync-Cache"]) == ("miss", "hit")
    for response in (first, second, viewer_client.get("/api/v1/jobs/")):
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"


def test_the_tokens_a_sign_in_returns_are_not_stored(client, viewer):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": viewer.username, "password": "x"},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert response["Cache-Control"] == "no-store"


def test_pages_outside_the_api_keep_their_own_caching(client):
    assert "no-store" not in client.get("/").get("Cache-Control", "")


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_PRELOAD=True)
def test_hsts_is_sent_over_https(client):
    response = client.get("/api/v1/health/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "preload" in response["Strict-Transport-Security"]
    assert "Strict-Transport-Security" not in client.get("/api/v1/health/")
