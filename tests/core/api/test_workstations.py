"""The workstations endpoint and admin: workstations HWA stopped listing show as gone."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.factories import WorkstationFactory

pytestmark = pytest.mark.django_db
WORKSTATIONS = "/api/v1/workstations/"


@pytest.fixture
def network():
    listed = WorkstationFactory(name="AGT001")
    gone = WorkstationFactory(name="AGT002", gone_at=timezone.now())
    return listed, gone


def test_it_shows_when_a_workstation_was_gone(viewer_client, network):
    rows = {row["name"]: row for row in viewer_client.get(WORKSTATIONS).json()["results"]}
    assert rows["AGT001"]["gone_at"] is None
    assert rows["AGT002"]["gone_at"] is not None


@pytest.mark.parametrize(("gone", "names"), [("true", ["AGT002"]), ("false", ["AGT001"])])
def test_it_filters_gone_or_listed_workstations(viewer_client, network, gone, names):
    body = viewer_client.get(WORKSTATIONS, {"gone": gone}).json()
    assert [row["name"] for row in body["results"]] == names


def test_the_admin_filters_gone_workstations(client, admin_user, network):
    client.force_login(admin_user)
    page = client.get("/admin/core/workstation/", {"listed": "no"}).content.decode()
    assert "AGT002" in page
    assert "AGT001" not in page
