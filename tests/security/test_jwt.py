"""The JWT lifecycle over HTTP: sign in, refresh (rotation, reuse), logout, revocation, forgery."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.core.api.errors import PROBLEM_CONTENT_TYPE
from apps.monitoring.models import AuditEvent
from apps.security.models import TokenFamily
from apps.security.tokens import FAMILY_CLAIM
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
VERIFY = "/api/v1/auth/token/verify/"
LOGOUT = "/api/v1/auth/logout/"
JOBS = "/api/v1/jobs/"

DATA_ENDPOINTS = [
    "/api/v1/jobs/",
    "/api/v1/jobs/status/",
    "/api/v1/workstations/",
    "/api/v1/jobstreams/",
]


def sign_in(client: APIClient, username: str = "viewer") -> dict[str, str]:
    response = client.post(TOKEN, {"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def refresh(client: APIClient, token: str):
    return client.post(REFRESH, {"refresh": token})


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def forge(payload: dict, *, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key if key is not None else settings.SECRET_KEY, algorithm)


# --- Sign in and use ------------------------------------------------------------------


@pytest.mark.parametrize("url", DATA_ENDPOINTS)
def test_anonymous_requests_get_a_401_problem(anon_client, url):
    response = anon_client.get(url)
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401
    assert body["request_id"] == response["X-Request-ID"]


def test_a_jwt_obtained_with_a_password_opens_the_api(anon_client, viewer):
    tokens = sign_in(anon_client)
    assert bearer(tokens["access"]).get(JOBS).status_code == 200


def test_a_wrong_password_is_a_401_problem(anon_client, viewer):
    response = anon_client.post(TOKEN, {"username": "viewer", "password": "no"})
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_the_admin_session_opens_the_api(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/api/v1/jobs/status/").status_code == 200


def test_tokens_are_hs256_with_iat_exp_and_a_family(anon_client, viewer):
    tokens = sign_in(anon_client)
    header = jwt.get_unverified_header(tokens["access"])
    access, refresh_claims = claims(tokens["access"]), claims(tokens["refresh"])
    assert header["alg"] == "HS256"
    assert {"iat", "exp", "jti", FAMILY_CLAIM} <= set(access)
    assert access[FAMILY_CLAIM] == refresh_claims[FAMILY_CLAIM]
    assert TokenFamily.objects.get(pk=access[FAMILY_CLAIM]).user == viewer


# --- Forged, altered, expired, misused tokens -----------------------------------------


@pytest.fixture
def valid_claims(anon_client, viewer) -> dict:
    return claims(sign_in(anon_client)["access"])


def test_a_forged_token_is_refused(anon_client, viewer):
    response = bearer("not.a.token").get(JOBS)
    assert response.status_code == 401
    assert response.json()["title"] == "Unauthorized"


def test_alg_none_is_refused(valid_claims):
    token = jwt.encode(valid_claims, None, algorithm="none")
    assert bearer(token).get(JOBS).status_code == 401


def test_a_token_signed_with_another_key_is_refused(valid_claims):
    token = forge(valid_claims, key="someone-elses-key-of-at-least-32-bytes!")
    assert bearer(token).get(JOBS).status_code == 401


def test_a_tampered_payload_is_refused(anon_client, viewer, admin_user):
    header, _payload, signature = sign_in(anon_client)["access"].split(".")
    claimed = {**claims(f"{header}.{_payload}.{signature}"), "user_id": str(admin_user.pk)}
    payload = base64.urlsafe_b64encode(json.dumps(claimed).encode()).rstrip(b"=").decode()
    assert bearer(f"{header}.{payload}.{signature}").get(JOBS).status_code == 401


def test_an_expired_token_is_refused_beyond_the_leeway(valid_claims):
    leeway = settings.SIMPLE_JWT["LEEWAY"]
    expired = {**valid_claims, "exp": int(time.time()) - leeway - 5}
    assert bearer(forge(expired)).get(JOBS).status_code == 401


def test_a_token_without_iat_or_issued_in_the_future_is_refused(valid_claims):
    no_iat = {k: v for k, v in valid_claims.items() if k != "iat"}
    future = {**valid_claims, "iat": int(time.time()) + 3600}
    assert bearer(forge(no_iat)).get(JOBS).status_code == 401
    assert bearer(forge(future)).get(JOBS).status_code == 401
    assert bearer(forge(valid_claims)).get(JOBS).status_code == 200  # the forge itself works


def test_a_refresh_token_is_no_access_token(anon_client, viewer):
    tokens = sign_in(anon_client)
    assert bearer(tokens["refresh"]).get(JOBS).status_code == 401


# --- Refresh: rotation and reuse ------------------------------------------------------


def test_refresh_rotates_and_verify_accepts_the_new_tokens(anon_client, viewer):
    tokens = sign_in(anon_client)
    rotated = refresh(anon_client, tokens["refresh"])
    assert rotated.status_code == 200
    body = rotated.json()
    assert body["refresh"] != tokens["refresh"]
    assert claims(body["refresh"])[FAMILY_CLAIM] == claims(tokens["refresh"])[FAMILY_CLAIM]
    assert anon_client.post(VERIFY, {"token": body["access"]}).status_code == 200
    assert bearer(body["access"]).get(JOBS).status_code == 200


def test_a_rotated_refresh_token_used_again_revokes_the_whole_family(anon_client, viewer):
    tokens = sign_in(anon_client)
    stolen = tokens["refresh"]
    current = refresh(anon_client, stolen).json()  # the owner refreshes first

    reused = refresh(anon_client, stolen)  # the thief replays the old token

    assert reused.status_code == 401
    assert reused["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert refresh(anon_client, current["refresh"]).status_code == 401  # the family is dead
    family = TokenFamily.objects.get(pk=claims(stolen)[FAMILY_CLAIM])
    assert family.revoked_reason == TokenFamily.Reason.REUSE
    event = AuditEvent.objects.get(action="auth.refresh_reuse")
    assert (event.target, event.outcome) == ("user:viewer", "refused")
    assert event.request_id == reused["X-Request-ID"]


def test_access_tokens_of_a_revoked_family_stop_working(anon_client, viewer):
    tokens = sign_in(anon_client)
    refresh(anon_client, tokens["refresh"])
    refresh(anon_client, tokens["refresh"])  # reuse: the family is revoked

    assert bearer(tokens["access"]).get(JOBS).status_code == 401
    assert anon_client.post(VERIFY, {"token": tokens["access"]}).status_code == 401


def test_another_sign_in_is_not_touched_by_a_reuse(anon_client, viewer):
    phone, laptop = sign_in(anon_client), sign_in(anon_client)
    refresh(anon_client, phone["refresh"])
    refresh(anon_client, phone["refresh"])

    assert refresh(anon_client, laptop["refresh"]).status_code == 200


# --- Logout ---------------------------------------------------------------------------


def test_logout_blacklists_the_refresh_token_and_is_audited(anon_client, viewer):
    tokens = sign_in(anon_client)

    response = anon_client.post(LOGOUT, {"refresh": tokens["refresh"]})

    assert response.status_code == 204
    assert refresh(anon_client, tokens["refresh"]).status_code == 401
    assert bearer(tokens["access"]).get(JOBS).status_code == 401
    event = AuditEvent.objects.get(action="auth.logout")
    assert (event.actor, event.target) == (viewer, "user:viewer")
    assert event.request_id == response["X-Request-ID"]


def test_logout_needs_a_genuine_refresh_token(anon_client, viewer):
    access = sign_in(anon_client)["access"]
    assert anon_client.post(LOGOUT, {"refresh": access}).status_code == 401
    assert anon_client.post(LOGOUT, {"refresh": "junk"}).status_code == 401
    assert anon_client.post(LOGOUT, {}).status_code == 400
    assert not AuditEvent.objects.filter(action="auth.logout").exists()


# --- Revocation by password change, deactivation, deletion ---------------------------


def test_a_password_change_revokes_access_and_refresh_tokens(anon_client, viewer):
    tokens = sign_in(anon_client)
    viewer.set_password("a-new-password-7c1")
    viewer.save()

    assert bearer(tokens["access"]).get(JOBS).status_code == 401
    assert refresh(anon_client, tokens["refresh"]).status_code == 401
    assert anon_client.post(VERIFY, {"token": tokens["access"]}).status_code == 401


def test_a_password_change_elsewhere_reaches_this_process_within_the_cache_time(
    anon_client, viewer, monkeypatch
):
    from apps.cache.engine import ShardedCache
    from apps.security import authentication

    now = [0.0]
    users = ShardedCache(
        ttl_seconds=authentication.USER_CACHE_SECONDS, clock=lambda: now[0], start_cleaner=False
    )
    monkeypatch.setattr(authentication, "_users", users)
    client = bearer(sign_in(anon_client)["access"])
    assert client.get(JOBS).status_code == 200  # the row is cached now
    type(viewer).objects.filter(pk=viewer.pk).update(password="changed-elsewhere")  # no signal

    now[0] += authentication.USER_CACHE_SECONDS - 1
    assert client.get(JOBS).status_code == 200  # the cached row, until it expires
    now[0] += 1.5
    assert client.get(JOBS).status_code == 401


def test_deactivation_revokes_refresh_tokens(anon_client, viewer):
    tokens = sign_in(anon_client)
    viewer.is_active = False
    viewer.save()

    assert refresh(anon_client, tokens["refresh"]).status_code == 401
    assert bearer(tokens["access"]).get(JOBS).status_code == 401


def test_a_deleted_users_refresh_token_is_a_401_not_a_500(anon_client, viewer):
    tokens = sign_in(anon_client)
    viewer.delete()

    response = refresh(anon_client, tokens["refresh"])

    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert bearer(tokens["access"]).get(JOBS).status_code == 401


# --- Housekeeping ---------------------------------------------------------------------


def test_a_refresh_keeps_the_family_alive_and_old_families_are_flushed(anon_client, viewer):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    old, live = sign_in(anon_client), sign_in(anon_client)
    long_ago = timezone.now() - settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] - timedelta(days=1)
    TokenFamily.objects.update(created_at=long_ago, refreshed_at=long_ago)
    assert refresh(anon_client, live["refresh"]).status_code == 200  # still valid: rotated now

    call_command("flush_expired_tokens", stdout=StringIO())

    remaining = set(TokenFamily.objects.values_list("pk", flat=True))
    assert remaining == {claims(live["refresh"])[FAMILY_CLAIM]}
    assert claims(old["refresh"])[FAMILY_CLAIM] not in remaining
