from __future__ import annotations

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.core.pools.outage import DatabaseUnavailable
from apps.core.pools.unavailable import DATABASE_DOWN
from apps.security import authentication
from apps.security.authentication import forget_user
from apps.security.roles import VIEWER
from tests.conftest import _with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def bearer():
    user = _with_role("jwtuser", VIEWER)
    forget_user(user_id=user.id)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return user, client


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/health/").status_code == 200
    return len(ctx.captured_queries)


def test_the_user_row_and_its_permissions_are_read_once_for_a_burst_of_requests(bearer):
    _user, client = bearer
    anonymous = _queries(APIClient())
    assert _queries(client) == anonymous + 3  # the user row, its own and its roles' permissions
    assert _queries(client) == anonymous


def test_deactivating_a_user_takes_effect_at_once_in_this_process(bearer):
    user, client = bearer
    assert client.get("/api/v1/jobs/").status_code == 200
    user.is_active = False
    user.save()
    response = client.get("/api/v1/jobs/")
    assert response.status_code == 401


def test_a_token_for_a_deleted_user_is_refused(bearer):
    user, client = bearer
    client.get("/api/v1/jobs/")
    user.delete()
    assert client.get("/api/v1/jobs/").status_code == 401


def _database_down(monkeypatch) -> None:
    """The user row cannot be read, as while PostgreSQL is down (the breaker is open)."""

    def unavailable(user_id):
        error = OperationalError("the database is unavailable (test)")
        error.__cause__ = DatabaseUnavailable("the database is unavailable (test)")
        raise error

    monkeypatch.setattr(authentication, "user_load", unavailable)


def test_while_the_database_is_down_a_token_keeps_the_last_user_row_read(bearer, monkeypatch):
    _user, client = bearer
    assert client.get("/api/v1/jobs/").status_code == 200  # the row is read and kept
    monkeypatch.setattr(authentication, "USER_CACHE_SECONDS", 0)  # ...and is now stale
    _database_down(monkeypatch)

    assert client.get("/api/v1/jobs/").status_code == 200


def test_while_the_database_is_down_an_unknown_token_user_is_a_503(bearer, monkeypatch):
    _user, client = bearer
    _database_down(monkeypatch)

    response = client.get("/api/v1/jobs/")

    assert response.status_code == 503
    assert response.json()["detail"] == DATABASE_DOWN
