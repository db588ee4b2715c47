"""CORS origin endpoints: administrators list, add, change and delete; audited; applied."""

from __future__ import annotations

import pytest

from apps.core.api.errors import PROBLEM_CONTENT_TYPE
from apps.core.config_versions import watcher
from apps.security.cors.allowlist import cors_allowlist
from apps.security.cors.models import HAS_PATH, CorsOrigin
from tests.security.conftest import audit_rows
from tests.security.cors.conftest import DISABLED, LISTED

pytestmark = pytest.mark.django_db

ORIGINS = "/api/v1/config/cors-origins/"


def test_an_administrator_lists_every_origin_enabled_or_not(administrator_client, origins):
    response = administrator_client.get(ORIGINS)
    assert response.status_code == 200
    assert [(row["origin"], row["enabled"]) for row in response.json()] == [
        (DISABLED, False),
        (LISTED, True),
    ]
    assert set(response.json()[0]) == {
        "id",
        "origin",
        "enabled",
        "note",
        "created_at",
        "updated_at",
    }


def test_an_administrator_adds_an_origin_and_every_process_allows_it(
    administrator_client, administrator
):
    response = administrator_client.post(
        ORIGINS, {"origin": "https://New.Example.com:443", "note": "dashboard"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["origin"], body["enabled"], body["note"]) == (
        "https://new.example.com",
        True,
        "dashboard",
    )
    assert administrator_client.get(f"{ORIGINS}{body['id']}/").json() == body
    [event] = audit_rows("cors_origin.create")
    assert (event.actor, event.source) == (administrator, "api")
    watcher.reset()
    watcher.poll(force=True)
    assert "https://new.example.com" in cors_allowlist()


def test_a_bad_origin_is_a_400_naming_the_field(administrator_client):
    response = administrator_client.post(
        ORIGINS, {"origin": "https://a.example/app"}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["errors"] == {"origin": [HAS_PATH]}
    assert not CorsOrigin.objects.exists()


def test_disabling_an_origin_is_audited_and_stops_it(administrator_client, origins):
    pk = origins[LISTED]
    response = administrator_client.patch(f"{ORIGINS}{pk}/", {"enabled": False}, format="json")
    assert response.status_code == 200
    assert response.json()["enabled"] is False
    [event] = audit_rows("cors_origin.update")
    assert (event.before["enabled"], event.after["enabled"]) == (True, False)
    watcher.reset()
    watcher.poll(force=True)
    assert cors_allowlist() == frozenset()


def test_deleting_an_origin_answers_204_and_is_audited(administrator_client, origins):
    response = administrator_client.delete(f"{ORIGINS}{origins[DISABLED]}/")
    assert response.status_code == 204
    assert administrator_client.get(f"{ORIGINS}{origins[DISABLED]}/").status_code == 404
    assert audit_rows("cors_origin.delete")[0].before["origin"] == DISABLED


@pytest.mark.parametrize(
    "persona", ["viewer_client", "operator_client", "auditor_client", "outsider_client"]
)
def test_only_administrators_see_or_change_origins(request, persona, origins):
    client = request.getfixturevalue(persona)
    assert client.get(ORIGINS).status_code == 403
    assert client.post(ORIGINS, {"origin": "https://x.example"}, format="json").status_code == 403
    assert client.delete(f"{ORIGINS}{origins[LISTED]}/").status_code == 403
    assert CorsOrigin.objects.count() == 2


def test_an_anonymous_caller_is_asked_to_sign_in(anon_client):
    assert anon_client.get(ORIGINS).status_code == 401
