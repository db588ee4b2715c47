"""Role x endpoint x method, built from the URL configuration: every API operation declares
its permission, and each role gets exactly what the declaration says (2xx or another
non-auth answer, 403, or 401 when not signed in). A new endpoint without a declaration
fails here, so it cannot ship unprotected."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from apps.security.permissions import PUBLIC, UNDECLARED, RequiredPermission
from apps.security.roles import ROLES
from apps.security.scopes import CONFIG_ADMIN, PLAN_READ
from apps.security.selectors import (
    ALLOWED,
    FORBIDDEN,
    UNAUTHENTICATED,
    api_endpoint_rules,
    expected_outcome,
    role_permissions,
)
from tests.conftest import _client_for, _with_role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RULES = api_endpoint_rules()
SUPERUSER = "superuser"
ANONYMOUS = "anonymous"


def _outcome(status: int) -> str:
    if status == 401:
        return UNAUTHENTICATED
    if status == 403:
        return FORBIDDEN
    return ALLOWED


@pytest.fixture
def plan(api_objects) -> dict[str, int | str]:
    return api_objects


def concrete(path: str, plan: dict[str, int | str]) -> str:
    """The path with real values for its parameters; a new parameter needs an example here."""
    examples = {"name": "database", "action": "hold"}
    segments = path.split("/")
    # The collection the first parameter belongs to: /api/v1/<resource>/{pk}/...
    first = next((i for i, segment in enumerate(segments) if segment.startswith("{")), 0)
    resource = segments[first - 1] if first else ""  # /metrics has no parameter
    if resource in plan:
        examples["pk"] = examples["prefix"] = plan[resource]
    for parameter in re.findall(r"{(\w+)}", path):
        if parameter not in examples:
            pytest.fail(f"{path}: add an example value for {{{parameter}}} to concrete()")
        path = path.replace(f"{{{parameter}}}", str(examples[parameter]))
    return path


@pytest.fixture
def callers(db) -> dict[str, tuple[APIClient, frozenset[str] | None]]:
    """Every role's persona, a superuser and an anonymous caller, with what each holds."""
    held = role_permissions()
    clients = {role: (_client_for(_with_role(f"as-{role}", role)), held[role]) for role in held}
    every = frozenset(p for permissions in held.values() for p in permissions)
    root = UserFactory(username="as-root", is_superuser=True, is_staff=True)
    clients[SUPERUSER] = (_client_for(root), every)
    clients[ANONYMOUS] = (APIClient(), None)
    return clients


def test_every_endpoint_declares_its_permission():
    undeclared = [f"{rule.method} {rule.path}" for rule in RULES if rule.permission is None]
    assert not undeclared, f"declare `required_permission` on: {undeclared}"


def test_every_endpoint_enforces_it_through_the_one_permission_class():
    bypassing = [
        f"{rule.method} {rule.path} ({rule.view.__name__})"
        for rule in RULES
        if RequiredPermission not in rule.view.permission_classes
    ]
    assert not bypassing


def test_the_matrix_covers_every_operation_of_the_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {
        (method.upper(), path) for path, item in schema["paths"].items() for method in item
    }
    # drf-spectacular names the primary key {id} in the schema; the URLconf says {pk}.
    covered = {(rule.method, rule.path.replace("{pk}", "{id}")) for rule in RULES}
    assert documented
    assert documented <= covered


def test_the_roles_are_the_migrated_groups():
    assert {role: sorted(held) for role, held in role_permissions().items()} == {
        role: sorted(permissions) for role, permissions in ROLES.items()
    }


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.method} {rule.path}")
def test_each_role_gets_what_the_rule_declares(rule, callers, plan):
    path = concrete(rule.path, plan)
    mismatches = []
    for name, (client, held) in callers.items():
        response = getattr(client, rule.method.lower())(path, {}, format="json")
        expected = expected_outcome(rule.permission, held)
        assert response.status_code != 500, (name, response.content)
        if _outcome(response.status_code) != expected:
            mismatches.append(f"{name}: expected {expected}, got {response.status_code}")
    assert not mismatches, f"{rule.method} {path} ({rule.permission}): {mismatches}"


def test_a_public_rule_is_explicit_and_open_to_anonymous_callers():
    public = {rule.path for rule in RULES if rule.permission == PUBLIC}
    assert public == {
        "/api/docs/",
        "/api/schema/",
        "/api/v1/auth/logout/",
        "/api/v1/auth/token/",
        "/api/v1/auth/token/refresh/",
        "/api/v1/auth/token/verify/",
        "/api/v1/health/",
        "/api/v1/security/csp-report/",  # browsers report without credentials
        "/api/v1/health/live/",
        "/api/v1/health/ready/",
    }


@pytest.mark.urls("tests.security.undeclared_urls")
def test_an_endpoint_that_declares_nothing_is_refused_and_reported(admin_client_api):
    response = admin_client_api.get("/undeclared/")

    assert response.status_code == 403
    assert response.json()["detail"] == UNDECLARED
    assert [rule.permission for rule in api_endpoint_rules()] == [None]


# --- API keys: the scope AND the owner's role -----------------------------------------


def _key_client(user, *scopes: str) -> APIClient:
    """A client as an API key authenticates it: the owner, and a key that has `scopes`."""
    client = APIClient()
    client.force_authenticate(user, token=SimpleNamespace(scopes=scopes))
    return client


def test_an_api_key_gets_no_more_than_its_scopes(administrator, plan):
    key = _key_client(administrator, PLAN_READ)

    assert key.get("/api/v1/jobs/").status_code == 200
    assert key.get("/api/v1/config/pools/").status_code == 403
    assert key.get("/api/v1/health/").json() == {"status": "healthy"}  # no monitoring scope


def test_an_api_key_gets_no_more_than_its_owners_role(viewer):
    key = _key_client(viewer, PLAN_READ, CONFIG_ADMIN)

    assert key.get("/api/v1/jobs/").status_code == 200
    assert key.get("/api/v1/config/pools/").status_code == 403
