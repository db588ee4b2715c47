"""API key endpoints (administrators), the admin pages, the command and the OpenAPI scheme."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.core.api.errors import PROBLEM_CONTENT_TYPE
from apps.core.api.filtering import NOT_A_BOOLEAN
from apps.security.api_keys.models import ApiKey
from apps.security.scopes import CONFIG_ADMIN, JOBS_OPERATE, PLAN_READ
from tests.security.conftest import audit_rows, key_client

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/api-keys/"
STATUS = "/api/v1/jobs/status/"


def create(client, **body):
    body = {"name": "ci", "owner": "viewer", "scopes": [PLAN_READ], **body}
    return client.post(KEYS, body)


def test_an_administrator_creates_a_key_and_sees_it_once(admin_client_api, viewer):
    response = create(admin_client_api, scopes=[PLAN_READ, JOBS_OPERATE])
    assert response.status_code == 201
    body = response.json()
    prefix = body["prefix"]
    assert body["key"].startswith(f"{prefix}.")
    assert (body["owner"], body["scopes"], body["state"]) == (
        "viewer",
        [PLAN_READ, JOBS_OPERATE],
        "active",
    )
    assert key_client(body["key"]).get(STATUS).status_code == 200

    shown = admin_client_api.get(f"{KEYS}{prefix}/").json()
    listed = admin_client_api.get(KEYS).json()["results"]
    secret = body["key"].split(".")[1]
    for page in (shown, listed):
        assert "key" not in (page if isinstance(page, dict) else page[0])
        assert secret not in str(page)
        assert "hashed_key" not in str(page)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": ["plan:write"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"owner": "nobody"}, "owner"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(admin_client_api, viewer, body, field):
    response = create(admin_client_api, **body)
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert field in response.json()["errors"]


def test_an_expiry_in_the_past_is_a_400(admin_client_api, viewer):
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    response = create(admin_client_api, expires_at=past)
    assert response.status_code == 400
    assert "expires_at" in response.json()["errors"]


def test_rotation_over_the_api_lists_both_keys(admin_client_api, viewer):
    old = create(admin_client_api).json()
    grace = (timezone.now() + timedelta(minutes=10)).isoformat()
    rotated = admin_client_api.post(f"{KEYS}{old['prefix']}/rotate/", {"old_valid_until": grace})
    assert rotated.status_code == 201
    new = rotated.json()
    assert new["key"].startswith(new["prefix"] + ".")
    assert new["rotated_from"] == old["prefix"]
    listed = {row["prefix"]: row for row in admin_client_api.get(KEYS).json()["results"]}
    assert listed[old["prefix"]]["state"] == "rotating"
    assert listed[old["prefix"]]["replaced_by"] == new["prefix"]
    assert listed[new["prefix"]]["state"] == "active"
    assert key_client(old["key"]).get(STATUS).status_code == 200
    assert key_client(new["key"]).get(STATUS).status_code == 200
    again = admin_client_api.post(f"{KEYS}{old['prefix']}/rotate/", {})
    assert again.status_code == 409


def test_revoke_over_the_api(admin_client_api, viewer):
    made = create(admin_client_api).json()
    response = admin_client_api.post(f"{KEYS}{made['prefix']}/revoke/")
    assert response.status_code == 200
    assert response.json()["state"] == "revoked"
    assert key_client(made["key"]).get(STATUS).status_code == 401


def test_an_unknown_prefix_is_a_404_problem(admin_client_api):
    response = admin_client_api.post(f"{KEYS}nosuchpf/revoke/")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE


def test_the_list_filters_by_owner(admin_client_api, viewer, auditor):
    create(admin_client_api, owner="viewer")
    create(admin_client_api, owner="auditor")
    rows = admin_client_api.get(KEYS, {"owner": "auditor"}).json()["results"]
    assert [row["owner"] for row in rows] == ["auditor"]


def test_the_list_refuses_a_revoked_filter_that_is_not_a_boolean(admin_client_api, viewer):
    create(admin_client_api, owner="viewer")
    assert len(admin_client_api.get(KEYS, {"revoked": "false"}).json()["results"]) == 1
    response = admin_client_api.get(KEYS, {"revoked": "maybe"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"revoked": [NOT_A_BOOLEAN]}


def test_management_needs_an_administrator(
    viewer_client, operator_client, auditor_client, anon_client
):
    assert viewer_client.get(KEYS).status_code == 403
    assert operator_client.post(KEYS, {}).status_code == 403
    assert auditor_client.get(KEYS).status_code == 403
    assert anon_client.get(KEYS).status_code == 401


def test_the_administrator_role_is_enough(administrator_client):
    assert administrator_client.get(KEYS).status_code == 200


def test_a_key_cannot_manage_keys_beyond_its_owner(issue_key, viewer, admin_user):
    # config:admin scope, but the owner is no administrator.
    _, key = issue_key(viewer, scopes=[CONFIG_ADMIN])
    assert key_client(key).get(KEYS).status_code == 403


def test_a_key_cannot_manage_keys_beyond_its_scopes(issue_key, admin_user):
    # The owner is a superuser, but the key only reads the plan.
    _, reader = issue_key(admin_user, scopes=[PLAN_READ])
    _, admin = issue_key(admin_user, scopes=[CONFIG_ADMIN])
    assert key_client(reader).get(KEYS).status_code == 403
    assert key_client(admin).get(KEYS).status_code == 200


def test_api_changes_are_audited_with_actor_address_and_request_id(admin_client_api, viewer):
    response = create(admin_client_api)
    (row,) = audit_rows("api_key.create")
    assert (row.actor.username, row.source, row.ip) == ("root", "api", "127.0.0.1")
    assert row.request_id == response["X-Request-ID"]
    assert row.after["scopes"] == [PLAN_READ]


# --- command ---------------------------------------------------------------------------


def run(*args) -> str:
    out = StringIO()
    call_command("api_key", *args, stdout=out)
    return out.getvalue()


def test_the_command_creates_lists_rotates_and_revokes(viewer, admin_user):
    output = run(
        "--as-user", "root", "create", "--owner", "viewer", "--name", "ci", "--scope", PLAN_READ
    )
    key = next(line for line in output.splitlines() if "." in line and " " not in line)
    prefix = key.split(".")[0]
    assert key_client(key).get(STATUS).status_code == 200
    assert prefix in run("list")
    assert key not in run("list")

    rotated = run("rotate", prefix)
    new_key = next(line for line in rotated.splitlines() if "." in line and " " not in line)
    assert key_client(new_key).get(STATUS).status_code == 200
    assert "rotating" in run("list", "--owner", "viewer")

    run("revoke", prefix)
    assert key_client(key).get(STATUS).status_code == 401
    sources = {row.source for row in audit_rows("api_key.create")}
    assert sources == {"command"}
    assert audit_rows("api_key.create")[0].actor == admin_user


def test_the_command_refuses_an_unknown_owner(db):
    with pytest.raises(CommandError, match="No user 'ghost'"):
        run("create", "--owner", "ghost", "--name", "x", "--scope", PLAN_READ)


def test_the_command_reports_a_bad_time(viewer):
    with pytest.raises(CommandError, match="ISO 8601"):
        run("create", "--owner", "viewer", "--name", "x", "--scope", PLAN_READ, "--expires", "soon")


# --- admin -----------------------------------------------------------------------------


def test_the_admin_pages_render(client, admin_user, viewer, issue_key):
    client.force_login(admin_user)
    api_key, _ = issue_key(viewer)
    for url in ("/admin/security/apikey/", "/admin/security/apikey/add/"):
        assert client.get(url).status_code == 200
    page = client.get(f"/admin/security/apikey/{api_key.pk}/change/").content.decode()
    assert api_key.prefix in page
    assert api_key.hashed_key not in page


def test_the_admin_issues_a_key_and_shows_it_once(client, admin_user, viewer):
    client.force_login(admin_user)
    response = client.post(
        "/admin/security/apikey/add/",
        {"name": "from-admin", "owner": viewer.pk, "scopes": [PLAN_READ]},
        follow=True,
    )
    api_key = ApiKey.objects.get(name="from-admin")
    message = next(str(m) for m in response.context["messages"])
    key = message.split(" is: ")[1].split(" ")[0]
    assert key.startswith(f"{api_key.prefix}.")
    assert key_client(key).get(STATUS).status_code == 200
    page = client.get(f"/admin/security/apikey/{api_key.pk}/change/").content.decode()
    assert api_key.hashed_key not in page
    assert key.split(".")[1] not in page
    assert audit_rows("api_key.create")[0].source == "admin"


def test_the_admin_revokes_and_rotates_with_actions(client, admin_user, viewer, issue_key):
    client.force_login(admin_user)
    first, first_key = issue_key(viewer)
    second, _ = issue_key(viewer)
    client.post(
        "/admin/security/apikey/",
        {"action": "revoke_keys", "_selected_action": [first.pk]},
    )
    assert key_client(first_key).get(STATUS).status_code == 401
    response = client.post(
        "/admin/security/apikey/",
        {"action": "rotate_keys", "_selected_action": [second.pk]},
        follow=True,
    )
    assert ApiKey.objects.filter(rotated_from=second).exists()
    assert "will not be shown again" in " ".join(str(m) for m in response.context["messages"])


# --- OpenAPI ---------------------------------------------------------------------------


def test_the_schema_documents_the_api_key_scheme(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    scheme = schema["components"]["securitySchemes"]["ApiKeyAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert {"ApiKeyAuth": []} in schema["paths"]["/api/v1/jobs/status/"]["get"]["security"]
