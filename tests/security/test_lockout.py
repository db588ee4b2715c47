"""Lockout on every login path: per (username, IP) and per IP, 429 + Retry-After, audited."""

from __future__ import annotations

import os
import time

import pytest
from django.core.management import call_command
from django.test import Client

from apps.core.api.errors import PROBLEM_CONTENT_TYPE
from apps.security import lockout
from apps.security.lockout import LOCKED_OUT
from tests.factories import PASSWORD, UserFactory
from tests.security.conftest import audit_rows

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
ADMIN_LOGIN = "/admin/login/"
API_LOGIN = "/api-auth/login/"


@pytest.fixture(autouse=True)
def _no_login_rate(settings):
    # These tests count failures; the login rate (test_throttling.py) would cut them short.
    settings.RESYNC_THROTTLE_RATES = {**settings.RESYNC_THROTTLE_RATES, "login": None}


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", is_staff=True)


def token_login(client: Client, username: str, password: str, **extra):
    body = {"username": username, "password": password}
    return client.post(TOKEN, body, content_type="application/json", **extra)


def admin_login(client: Client, username: str, password: str, **extra):
    body = {"username": username, "password": password, "next": "/admin/"}
    return client.post(ADMIN_LOGIN, body, **extra)


def api_login(client: Client, username: str, password: str, **extra):
    body = {"username": username, "password": password, "next": "/api/v1/jobs/"}
    return client.post(API_LOGIN, body, **extra)


LOGIN_PATHS = [
    pytest.param(token_login, 401, 200, id="token"),
    pytest.param(admin_login, 200, 302, id="admin"),
    pytest.param(api_login, 200, 302, id="browsable-api"),
]


def assert_locked(response) -> int:
    assert response.status_code == 429
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 15 * 60
    body = response.json()
    assert body["status"] == 429
    assert body["detail"] == LOCKED_OUT.format(seconds=retry_after)
    assert body["request_id"] == response["X-Request-ID"]
    return retry_after


@pytest.mark.parametrize(("login", "failed", "succeeded"), LOGIN_PATHS)
def test_the_fifth_failure_locks_and_the_right_password_is_then_refused(
    client, alice, login, failed, succeeded
):
    statuses = [login(client, "alice", "wrong").status_code for _ in range(5)]
    assert statuses == [failed] * 4 + [429]
    assert_locked(login(client, "alice", PASSWORD))


@pytest.mark.parametrize(("login", "failed", "succeeded"), LOGIN_PATHS)
def test_the_right_password_works_before_the_limit(client, alice, login, failed, succeeded):
    for _ in range(4):
        assert login(client, "alice", "wrong").status_code == failed
    assert login(client, "alice", PASSWORD).status_code == succeeded


def test_a_success_clears_the_users_count_at_that_address(client, alice):
    for _ in range(4):
        token_login(client, "alice", "wrong")
    assert token_login(client, "alice", PASSWORD).status_code == 200
    for _ in range(4):
        assert token_login(client, "alice", "wrong").status_code == 401


def test_failures_on_different_paths_add_up(client, alice):
    token_login(client, "alice", "wrong")
    token_login(client, "alice", "wrong")
    admin_login(client, "alice", "wrong")
    api_login(client, "alice", "wrong")
    assert admin_login(client, "alice", "wrong").status_code == 429
    assert_locked(token_login(client, "alice", PASSWORD))


def test_a_user_locked_at_one_address_still_logs_in_from_another(alice):
    attacker, office = Client(REMOTE_ADDR="203.0.113.5"), Client(REMOTE_ADDR="198.51.100.8")
    for _ in range(5):
        token_login(attacker, "alice", "wrong")
    assert_locked(token_login(attacker, "alice", PASSWORD))
    assert token_login(office, "alice", PASSWORD).status_code == 200


def test_another_user_at_the_locked_pairs_address_still_logs_in(client, alice):
    UserFactory(username="bob")
    for _ in range(5):
        token_login(client, "alice", "wrong")
    assert token_login(client, "bob", PASSWORD).status_code == 200


def test_an_address_spraying_many_usernames_is_locked_for_everyone(alice, settings):
    sprayer, elsewhere = Client(REMOTE_ADDR="203.0.113.5"), Client(REMOTE_ADDR="198.51.100.8")
    limit = settings.RESYNC_LOCKOUT_IP_FAILURES
    statuses = [token_login(sprayer, f"user{n}", "guess").status_code for n in range(limit)]
    assert statuses == [401] * (limit - 1) + [429]
    assert_locked(token_login(sprayer, "alice", PASSWORD))
    assert token_login(elsewhere, "alice", PASSWORD).status_code == 200


def test_a_spoofed_forwarded_header_does_not_dodge_the_lockout(alice, settings):
    settings.RESYNC_TRUSTED_PROXIES = ["10.0.0.0/8"]  # the peer below is not one of them
    attacker = Client(REMOTE_ADDR="203.0.113.5")
    for n in range(5):
        token_login(attacker, "alice", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert_locked(token_login(attacker, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.1"))


def test_behind_a_trusted_proxy_clients_are_locked_one_by_one(alice, settings):
    settings.RESYNC_TRUSTED_PROXIES = ["10.0.0.1"]
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(5):
        token_login(proxy, "alice", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert_locked(token_login(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.5"))
    ok = token_login(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert ok.status_code == 200


def test_a_lock_ends_by_itself_after_the_window(client, alice, monkeypatch, settings):
    for _ in range(5):
        token_login(client, "alice", "wrong")
    later = time.time() + settings.RESYNC_LOCKOUT_MINUTES * 60 + 1
    monkeypatch.setattr(lockout, "_clock", lambda: later)
    assert token_login(client, "alice", PASSWORD).status_code == 200


def test_the_limits_are_settings(client, alice, settings):
    settings.RESYNC_LOCKOUT_FAILURES = 2
    assert token_login(client, "alice", "wrong").status_code == 401
    assert token_login(client, "alice", "wrong").status_code == 429


def test_unlock_user_lifts_the_lock_from_every_address(alice):
    clients = [Client(REMOTE_ADDR=f"203.0.113.{n}") for n in (1, 2)]
    for attacker in clients:
        for _ in range(5):
            token_login(attacker, "alice", "wrong")
    call_command("unlock", "alice")
    for attacker in clients:
        assert token_login(attacker, "alice", PASSWORD).status_code == 200


def test_unlock_ip_lifts_the_address_and_its_pairs(alice, settings):
    sprayer = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(5):
        token_login(sprayer, "alice", "wrong")
    for n in range(settings.RESYNC_LOCKOUT_IP_FAILURES):
        token_login(sprayer, f"user{n}", "guess")
    call_command("unlock", "203.0.113.5")
    assert token_login(sprayer, "alice", PASSWORD).status_code == 200


def test_axes_reset_username_reaches_the_same_counters(client, alice):
    for _ in range(5):
        token_login(client, "alice", "wrong")
    call_command("axes_reset_username", "alice")
    assert token_login(client, "alice", PASSWORD).status_code == 200


def test_failures_lockouts_and_unlocks_are_audited(client, alice, admin_user):
    for _ in range(5):
        token_login(client, "alice", "wrong")
    call_command("unlock", "alice", "--as-user", admin_user.username)
    assert token_login(client, "alice", PASSWORD).status_code == 200

    failed = audit_rows("login.failed")
    assert len(failed) == 5
    assert {(row.target, row.ip, row.outcome) for row in failed} == {
        ("user:alice", "127.0.0.1", "failed")
    }
    assert all(row.request_id for row in failed)
    (locked,) = audit_rows("login.lockout")
    assert locked.target == "user:alice@127.0.0.1"
    (unlocked,) = audit_rows("login.unlock")
    assert unlocked.actor == admin_user
    assert unlocked.after == {"locks_lifted": ["user:alice@127.0.0.1"]}
    (succeeded,) = audit_rows("login.succeeded")
    assert (succeeded.actor, succeeded.ip, succeeded.source) == (alice, "127.0.0.1", "api")


def test_admin_logins_are_audited_as_admin(client, alice):
    admin_login(client, "alice", "wrong")
    admin_login(client, "alice", PASSWORD)
    assert [row.source for row in audit_rows("login.failed")] == ["admin"]
    assert [row.source for row in audit_rows("login.succeeded")] == ["admin"]


def test_a_refused_attempt_while_locked_is_not_counted_or_audited_again(client, alice):
    for _ in range(5):
        token_login(client, "alice", "wrong")
    for _ in range(10):
        token_login(client, "alice", "wrong")
    assert len(audit_rows("login.failed")) == 5


def test_the_backend_refuses_a_locked_client_even_past_the_guard(client, alice):
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    for _ in range(5):
        token_login(client, "alice", "wrong")
    request = RequestFactory().post("/some/other/login/")  # from 127.0.0.1, like the client
    assert authenticate(request, username="alice", password=PASSWORD) is None
    assert len(audit_rows("login.failed")) == 5  # a refusal is not a wrong password
    assert audit_rows("login.succeeded") == []


def test_logins_without_a_request_are_not_locked(alice):
    from django.contrib.auth import authenticate

    assert authenticate(username="alice", password=PASSWORD) == alice


def test_locks_are_stored_where_every_process_sees_them(client, alice):
    for _ in range(5):
        token_login(client, "alice", "wrong")
    if os.environ.get("REDIS_URL"):
        import redis

        raw = redis.Redis.from_url(os.environ["REDIS_URL"])
        assert raw.keys("*lockout:lock:*")
    else:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT cache_key FROM resync_shared_cache")
            keys = [row[0] for row in cursor.fetchall()]
        assert any("lockout:lock:" in key for key in keys)
