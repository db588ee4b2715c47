"""Rate limits: anonymous, per user, per API key, and logins refused before any hashing."""

from __future__ import annotations

import os
import time

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.core.api.errors import PROBLEM_CONTENT_TYPE
from apps.security import throttling
from apps.security.login import LOGIN_THROTTLED, AuditedModelBackend
from apps.security.throttling import PER_PROCESS_THROTTLES, check_shared_counters
from tests.factories import PASSWORD
from tests.security.conftest import key_client

pytestmark = pytest.mark.django_db

HEALTH = "/api/v1/health/"
STATUS = "/api/v1/jobs/status/"


@pytest.fixture(autouse=True)
def _mid_window(monkeypatch):
    # Windows are aligned to the clock: a test crossing a minute boundary would see its
    # count restart. Stop the throttles' clock 20 s into a minute.
    now = (int(time.time()) // 60) * 60 + 20.0
    monkeypatch.setattr(throttling, "_clock", lambda: now)


@pytest.fixture
def rates(settings):
    """rates(anon=..., user=...) sets some rates and leaves the others as configured."""

    def set_rates(**rates):
        settings.RESYNC_THROTTLE_RATES = {**settings.RESYNC_THROTTLE_RATES, **rates}

    return set_rates


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["status"] == 429


def test_anonymous_clients_are_throttled_per_address(rates):
    rates(anon="2/min")
    first, second = APIClient(REMOTE_ADDR="203.0.113.1"), APIClient(REMOTE_ADDR="203.0.113.2")
    assert [first.get(HEALTH).status_code for _ in range(2)] == [200, 200]
    assert_throttled(first.get(HEALTH))
    assert second.get(HEALTH).status_code == 200


def test_users_are_throttled_per_user(rates, viewer_client, operator_client):
    rates(user="2/min")
    assert [viewer_client.get(STATUS).status_code for _ in range(2)] == [200, 200]
    assert_throttled(viewer_client.get(STATUS))
    assert operator_client.get(STATUS).status_code == 200


def test_api_keys_are_throttled_per_key_apart_from_their_owner(rates, issue_key, viewer):
    rates(api_key="2/min", user="2/min")
    _, first = issue_key(viewer)
    _, second = issue_key(viewer)
    client = key_client(first)
    assert [client.get(STATUS).status_code for _ in range(2)] == [200, 200]
    assert_throttled(client.get(STATUS))
    assert key_client(second).get(STATUS).status_code == 200
    owner = APIClient()
    owner.force_authenticate(viewer)
    assert owner.get(STATUS).status_code == 200


def test_a_rate_set_to_none_is_off(rates, viewer_client):
    rates(user=None)
    assert {viewer_client.get(STATUS).status_code for _ in range(5)} == {200}


def test_logins_over_the_rate_are_refused_before_any_password_is_hashed(rates, viewer, monkeypatch):
    rates(login="3/min")
    hashed = []
    real = AuditedModelBackend.authenticate
    monkeypatch.setattr(
        AuditedModelBackend,
        "authenticate",
        lambda self, *a, **kw: hashed.append(1) or real(self, *a, **kw),
    )
    client = Client()
    body = {"username": "viewer", "password": "wrong"}
    for _ in range(3):
        client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert len(hashed) == 3
    right = {"username": "viewer", "password": PASSWORD}
    refused = client.post("/api/v1/auth/token/", right, content_type="application/json")
    assert_throttled(refused)
    seconds = int(refused["Retry-After"])
    assert refused.json()["detail"] == LOGIN_THROTTLED.format(seconds=seconds)
    assert len(hashed) == 3


def test_the_login_rate_covers_admin_and_browsable_api_logins(rates, viewer):
    rates(login="2/min")
    client = Client()
    client.post("/admin/login/", {"username": "viewer", "password": "x"})
    client.post("/api-auth/login/", {"username": "viewer", "password": "x"})
    assert_throttled(client.post("/admin/login/", {"username": "viewer", "password": "x"}))
    assert_throttled(client.post("/api-auth/login/", {"username": "viewer", "password": "x"}))


def test_the_login_rate_is_per_address(rates, viewer):
    rates(login="1/min")
    busy, other = Client(REMOTE_ADDR="203.0.113.1"), Client(REMOTE_ADDR="203.0.113.2")
    body = {"username": "viewer", "password": PASSWORD}
    assert (
        busy.post("/api/v1/auth/token/", body, content_type="application/json").status_code == 200
    )
    assert_throttled(busy.post("/api/v1/auth/token/", body, content_type="application/json"))
    assert (
        other.post("/api/v1/auth/token/", body, content_type="application/json").status_code == 200
    )


def test_guessing_api_keys_is_refused_before_hashing(rates, issue_key, viewer):
    rates(login="2/min")
    api_key, _ = issue_key(viewer)
    guess = f"{api_key.prefix}.{'x' * 32}"
    statuses = [key_client(guess).get(STATUS).status_code for _ in range(2)]
    assert statuses == [401, 401]
    assert_throttled(key_client(guess).get(STATUS))


def test_a_key_verified_once_is_not_hashed_again(rates, issue_key, viewer):
    rates(login="1/min")
    _, key = issue_key(viewer)
    client = key_client(key)
    assert {client.get(STATUS).status_code for _ in range(3)} == {200}


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_counters_live_in_redis_where_every_process_sees_them(rates, viewer_client):
    import redis
    from django.core.cache import caches

    rates(user="100/min")
    viewer_client.get(STATUS)
    viewer_client.get(STATUS)
    raw = redis.Redis.from_url(os.environ["REDIS_URL"])
    keys = raw.keys("*throttle:user:*")
    assert len(keys) == 1
    assert int(raw.get(keys[0])) == 2
    assert caches["throttle"].__class__.__name__ == "RedisCache"


def test_with_redis_unreachable_throttles_and_lockouts_let_requests_through(
    settings, rates, viewer, viewer_client
):
    down = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 0.2,
            "SOCKET_TIMEOUT": 0.2,
            "IGNORE_EXCEPTIONS": True,
        },
    }
    settings.CACHES = {**settings.CACHES, "shared": down, "throttle": down}
    rates(user="1/min", login="1/min")
    assert {viewer_client.get(STATUS).status_code for _ in range(3)} == {200}
    body = {"username": "viewer", "password": PASSWORD}
    client = APIClient()
    assert {client.post("/api/v1/auth/token/", body).status_code for _ in range(2)} == {200}


def test_several_processes_without_redis_are_warned_about(settings, monkeypatch):
    settings.REDIS_URL = None
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    (warning,) = check_shared_counters(None)
    assert warning.id == "security.W010"
    assert warning.msg == PER_PROCESS_THROTTLES.format(workers=4)
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    assert check_shared_counters(None) == []
