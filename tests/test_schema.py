from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.security.permissions import AUTHENTICATED, PUBLIC
from apps.security.selectors import api_endpoint_rules


def test_the_openapi_schema_generates_without_warnings():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/v1/jobs/status/" in out.getvalue()


def test_the_api_docs_page_renders_from_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_without_public_docs_the_schema_and_docs_need_a_signed_in_caller(
    client, outsider, settings, path
):
    settings.RESYNC_PUBLIC_API_DOCS = False
    assert client.get(path).status_code == 401
    client.force_login(outsider)  # any role, or none: the admin session opens them
    assert client.get(path).status_code == 200


def test_the_permission_matrix_shows_the_docs_rule_in_force(settings):
    rules = {rule.path: rule.permission for rule in api_endpoint_rules() if rule.method == "GET"}
    assert rules["/api/docs/"] == PUBLIC
    settings.RESYNC_PUBLIC_API_DOCS = False
    rules = {rule.path: rule.permission for rule in api_endpoint_rules() if rule.method == "GET"}
    assert rules["/api/docs/"] == rules["/api/schema/"] == AUTHENTICATED
