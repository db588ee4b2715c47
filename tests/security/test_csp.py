"""The Content-Security-Policy header (apps/security/csp.py): strict, built once, a nonce only
where a page uses one, report-only on request. tests/security/test_csp_browser.py loads the
pages in a browser under it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from csp import middleware as csp_middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONE, SELF
from csp.decorators import csp_exempt, csp_update
from csp.exceptions import CSPNonceError
from csp.utils import build_policy
from django.contrib import admin
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from apps.security import csp
from apps.security.csp import REPORTING_ENDPOINTS, CSPMiddleware

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
REPORT_URI = "/api/v1/security/csp-report/"


def _directives(header: str) -> dict[str, list[str]]:
    return {
        name: sources
        for name, *sources in (part.split() for part in header.split(";") if part.strip())
    }


def _nonce(header: str) -> str | None:
    found = re.search(r"'nonce-([^']+)'", header)
    return found and found.group(1)


def test_the_policy_allows_nothing_inline_and_nothing_from_elsewhere(client):
    directives = _directives(client.get(reverse("home"))[HEADER])

    assert directives["default-src"] == [SELF]
    assert directives["script-src"] == [SELF]
    assert directives["style-src"] == [SELF]
    assert directives["object-src"] == [NONE]
    assert directives["frame-ancestors"] == [NONE]
    assert directives["form-action"] == [SELF]
    assert directives["base-uri"] == [SELF]
    sources = [source for sources in directives.values() for source in sources]
    assert not [source for source in sources if "unsafe" in source]


def test_violations_are_reported_to_the_report_endpoint(client):
    response = client.get(reverse("home"))

    directives = _directives(response[HEADER])
    assert directives["report-uri"] == [REPORT_URI]
    # report-to names a group; Reporting-Endpoints gives the group's address.
    assert directives["report-to"] == ["csp-endpoint"]
    assert response[REPORTING_ENDPOINTS] == f'csp-endpoint="{REPORT_URI}"'


def test_the_header_is_built_once_not_per_response(client, monkeypatch):
    client.get(reverse("home"))  # builds it, if no earlier test did
    builds = []

    def counted(**kwargs):
        builds.append(kwargs)
        return build_policy(**kwargs)

    # Wherever the header could be built: here, or in django-csp's own middleware.
    monkeypatch.setattr(csp, "build_policy", counted)
    monkeypatch.setattr(csp_middleware, "build_policy", counted)

    first, second = client.get(reverse("home")), client.get(reverse("admin:login"))

    assert builds == []
    assert first[HEADER] == second[HEADER]


def test_a_settings_change_rebuilds_the_header(client, settings):
    client.get(reverse("home"))
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": [NONE]}}

    assert client.get(reverse("home"))[HEADER] == "default-src 'none'"


def test_a_page_that_uses_the_nonce_gets_it_in_its_header(admin_client):
    # The browsable API's Pygments <style> carries the nonce (Pygments is a test dependency).
    pages = [admin_client.get(reverse("job-list"), HTTP_ACCEPT="text/html") for _ in range(2)]

    nonces = [_nonce(page[HEADER]) for page in pages]
    assert None not in nonces
    assert nonces[0] != nonces[1]
    for page, nonce in zip(pages, nonces, strict=True):
        directives = _directives(page[HEADER])
        assert f"'nonce-{nonce}'" in directives["style-src"]
        assert f'<style nonce="{nonce}">' in page.content.decode()


def test_a_page_without_a_nonce_has_none_in_its_header(client):
    assert _nonce(client.get(reverse("home"))[HEADER]) is None


def test_a_nonce_asked_for_after_the_header_is_sent_is_an_error():
    request = RequestFactory().get("/")
    middleware = CSPMiddleware(lambda request: HttpResponse())

    middleware(request)

    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)


def test_a_view_that_changes_its_policy_gets_its_own_header():
    request = RequestFactory().get("/")
    wider = csp_update({"img-src": ["https://img.example"]})
    updated = CSPMiddleware(wider(lambda request: HttpResponse()))
    exempt = CSPMiddleware(csp_exempt()(lambda request: HttpResponse()))

    assert "https://img.example" in _directives(updated(request)[HEADER])["img-src"]
    assert HEADER not in exempt(request)
    # The shared header is untouched.
    assert "https://img.example" not in csp.policy_headers()[0].value


def test_the_docs_and_login_pages_carry_nothing_inline(client):
    # Their packages' own templates do; templates/ overrides them.
    pages = [reverse("api-docs"), reverse("rest_framework:login"), reverse("admin:login")]
    for path in pages:
        html = client.get(path).content.decode()
        assert "<style" not in html, path
        assert " style=" not in html, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path


def test_no_admin_change_list_turns_off_both_action_bars():
    # Django's change list then adds an inline <style> block, which the policy refuses.
    both_off = [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if not (model_admin.actions_on_top or model_admin.actions_on_bottom)
    ]
    assert both_off == []


def _headers_with(tmp_path: Path, **env: str) -> dict[str, str]:
    """The CSP headers a process started with these variables sends."""
    code = (
        "import django, json; django.setup();"
        "from apps.security.csp import policy_headers;"
        "print(json.dumps({h.name: h.value for h in policy_headers()}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RESYNC_"))}
    clean.update(
        DJANGO_SETTINGS_MODULE="resync_site.settings",
        RESYNC_LOCAL_FILE=str(tmp_path / "local.json"),
        **env,
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_report_only_switch_sends_the_same_policy_without_enforcing_it(tmp_path):
    enforced = _headers_with(tmp_path)
    report_only = _headers_with(tmp_path, RESYNC_CSP_REPORT_ONLY="1")

    assert list(enforced) == [HEADER]
    assert list(report_only) == [HEADER_REPORT_ONLY]
    assert _directives(report_only[HEADER_REPORT_ONLY]) == _directives(enforced[HEADER])


def test_an_empty_report_uri_turns_reporting_off(tmp_path):
    header = _headers_with(tmp_path, RESYNC_CSP_REPORT_URI="")[HEADER]

    assert "report-uri" not in _directives(header)
    assert "report-to" not in _directives(header)
