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


@pytest.fixture
def verifications(monkeypatch):
    """How many times simplejwt verified a token's signature and claims."""
    calls = []
    verify = authentication.JWTAuthentication.get_validated_token

    def counted(self, raw_token):
        calls.append(raw_token)
        return verify(self, raw_token)

    monkeypatch.setattr(authentication.JWTAuthentication, "get_validated_token", counted)
    return calls


def test_a_token_is_verified_once_then_served_from_the_process_cache(bearer, verifications):
    _user, client = bearer
    for _ in range(3):
        assert client.get("/api/v1/jobs/status/").status_code == 200
    assert len(verifications) == 1


def test_a_verified_token_is_checked_again_after_its_expiry(bearer, verifications, monkeypatch):
    _user, client = bearer
    assert client.get("/api/v1/jobs/status/").status_code == 200
    token = AccessToken(verifications[0])
    monkeypatch.setattr(authentication, "_clock", lambda: token["exp"] + 1)

    client.get("/api/v1/jobs/status/")

    assert len(verifications) == 2


def test_a_tampered_token_is_refused_even_when_the_genuine_one_is_cached(bearer):
    user, client = bearer
    assert client.get("/api/v1/jobs/status/").status_code == 200
    genuine = str(AccessToken.for_user(user))
    tampered = genuine[:-2] + ("AA" if genuine[-2:] != "AA" else "BB")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tampered}")

    assert client.get("/api/v1/jobs/status/").status_code == 401


def test_a_cached_token_of_a_deactivated_user_is_refused(bearer):
    user, client = bearer
    assert client.get("/api/v1/jobs/status/").status_code == 200
    user.is_active = False
    user.save()

    assert client.get("/api/v1/jobs/status/").status_code == 401
