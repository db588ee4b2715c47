"""The seed's unversioned paths answer as their v1 endpoints (resync_site/seed_aliases.py)."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

ALIASES = [
    ("/api/health", "/api/v1/health/"),
    ("/api/cache/stats", "/api/v1/cache/stats/"),
    ("/api/jobs/status", "/api/v1/jobs/status/"),
]


@pytest.mark.parametrize(("alias", "v1"), ALIASES)
def test_an_alias_answers_as_its_v1_endpoint(administrator_client, api_objects, alias, v1):
    old, new = administrator_client.get(alias), administrator_client.get(v1)

    assert old.status_code == new.status_code == 200
    assert old["Content-Type"] == new["Content-Type"]
    assert sorted(old.json()) == sorted(new.json())


@pytest.mark.parametrize("alias", ["/api/cache/stats", "/api/jobs/status"])
def test_an_alias_needs_the_same_permission(anon_client, alias):
    assert anon_client.get(alias).status_code == 401


def test_the_schema_documents_the_v1_paths_only():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    assert "/api/v1/health/" in paths
    assert not [alias for alias, _ in ALIASES if alias in paths]
