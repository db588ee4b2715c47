"""API keys: issued once, stored as a slow hash, scoped, expiring, revocable, rotatable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import hashers
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from apps.core.errors import ApplicationError, ConflictError
from apps.security.api_keys import authentication, services
from apps.security.api_keys.authentication import (
    EXPIRED_KEY,
    INACTIVE_OWNER,
    INVALID_KEY,
    REVOKED_KEY,
    ApiKeyAuthentication,
)
from apps.security.api_keys.models import ApiKey
from apps.security.scopes import JOBS_OPERATE, PLAN_READ, SCOPES
from tests.factories import JobFactory, UserFactory
from tests.security.conftest import audit_rows, key_client

pytestmark = pytest.mark.django_db

STATUS = "/api/v1/jobs/status/"


def test_the_key_is_returned_once_and_only_a_prefix_and_hash_are_stored(issue_key, viewer):
    api_key, key = issue_key(viewer)
    prefix, secret = key.split(".")
    assert api_key.prefix == prefix
    assert len(secret) == 32
    row = ApiKey.objects.filter(pk=api_key.pk).values().get()
    assert not any(secret in str(value) for value in row.values())
    assert row["hashed_key"].startswith("pbkdf2_sha256$")


def test_the_hash_has_a_passwords_work_factor_by_default(issue_key, viewer, settings):
    settings.RESYNC_API_KEY_HASH_ITERATIONS = 0
    api_key, key = issue_key(viewer)
    iterations = int(api_key.hashed_key.split("$")[1])
    assert iterations == PBKDF2PasswordHasher.iterations >= 1_000_000
    assert key_client(key).get(STATUS).status_code == 200


def test_keys_are_compared_in_constant_time(issue_key, viewer, monkeypatch):
    _, key = issue_key(viewer)
    compared = []
    real = hashers.constant_time_compare
    monkeypatch.setattr(
        hashers, "constant_time_compare", lambda a, b: compared.append(1) or real(a, b)
    )
    assert key_client(key).get(STATUS).status_code == 200
    assert compared


def test_a_key_authenticates_as_its_owner_with_its_scopes(issue_key, viewer):
    api_key, key = issue_key(viewer, scopes=[PLAN_READ])
    request = APIRequestFactory().get(STATUS, HTTP_AUTHORIZATION=f"Api-Key {key}")
    user, auth = ApiKeyAuthentication().authenticate(request)
    assert user == viewer
    assert auth == api_key
    assert auth.scopes == [PLAN_READ]


def test_a_key_opens_the_api(issue_key, viewer):
    _, key = issue_key(viewer)
    assert key_client(key).get(STATUS).status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key nonsense",
        "Api-Key abcdefgh.",
        "Api-Key nosuchpf.abcdefghijklmnopqrstuvwxyz012345",
        "Api-Key " + "x" * 200 + ".y",
    ],
)
def test_malformed_or_unknown_keys_are_refused(anon_client, viewer, header):
    anon_client.credentials(HTTP_AUTHORIZATION=header)
    response = anon_client.get(STATUS)
    assert response.status_code == 401
    assert response.json()["detail"] == INVALID_KEY


def test_a_wrong_secret_with_a_real_prefix_is_refused(issue_key, viewer):
    api_key, _ = issue_key(viewer)
    response = key_client(f"{api_key.prefix}.{'a' * 32}").get(STATUS)
    assert response.status_code == 401
    assert response.json()["detail"] == INVALID_KEY


def test_an_expired_key_is_refused(issue_key, viewer):
    api_key, key = issue_key(viewer, expires_at=timezone.now() + timedelta(hours=1))
    assert key_client(key).get(STATUS).status_code == 200
    ApiKey.objects.filter(pk=api_key.pk).update(expiry_date=timezone.now() - timedelta(seconds=1))
    response = key_client(key).get(STATUS)
    assert response.status_code == 401
    assert response.json()["detail"] == EXPIRED_KEY


def test_a_revoked_key_is_refused_at_once_even_if_verified_before(issue_key, viewer):
    api_key, key = issue_key(viewer)
    client = key_client(key)
    assert client.get(STATUS).status_code == 200
    services.api_key_revoke(api_key=api_key, actor=None, source="command")
    response = client.get(STATUS)
    assert response.status_code == 401
    assert response.json()["detail"] == REVOKED_KEY


def test_a_revoked_key_cannot_be_unrevoked(issue_key, viewer):
    from django.core.exceptions import ValidationError

    api_key, _ = issue_key(viewer)
    services.api_key_revoke(api_key=api_key, actor=None, source="command")
    loaded = ApiKey.objects.get(pk=api_key.pk)
    loaded.revoked = False
    with pytest.raises(ValidationError):
        loaded.save()


def test_a_key_of_a_deactivated_owner_is_refused(issue_key, viewer):
    _, key = issue_key(viewer)
    viewer.is_active = False
    viewer.save()
    response = key_client(key).get(STATUS)
    assert response.status_code == 401
    assert response.json()["detail"] == INACTIVE_OWNER


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        ([], services.NO_SCOPES),
        (
            ["plan:write"],
            services.UNKNOWN_SCOPES.format(scopes="plan:write", known=", ".join(SCOPES)),
        ),
    ],
)
def test_scopes_are_checked_at_creation(issue_key, viewer, scopes, message):
    with pytest.raises(ApplicationError) as error:
        issue_key(viewer, scopes=scopes)
    assert error.value.detail == message


def test_scopes_are_kept_in_a_stable_order_without_duplicates(issue_key, viewer):
    api_key, _ = issue_key(viewer, scopes=[JOBS_OPERATE, PLAN_READ, JOBS_OPERATE])
    assert api_key.scopes == [PLAN_READ, JOBS_OPERATE]


def test_an_expiry_in_the_past_is_refused(issue_key, viewer):
    with pytest.raises(ApplicationError) as error:
        issue_key(viewer, expires_at=timezone.now() - timedelta(minutes=1))
    assert error.value.detail == services.EXPIRY_IN_PAST


def test_a_key_never_grants_more_than_its_owner_may_do(issue_key, viewer):
    # The key carries jobs:operate, but its owner lacks core.act_on_job.
    job = JobFactory()
    _, key = issue_key(viewer, scopes=[JOBS_OPERATE])
    response = key_client(key).post(f"/api/v1/jobs/{job.pk}/actions/hold/")
    assert response.status_code == 403


def test_the_owners_permission_shows_through_the_key(issue_key, monkeypatch):
    # The owner holds core.act_on_job: the key gets as far as HWA (stubbed out here).
    from apps.core.api import actions

    operator = UserFactory(username="operator")
    operator.user_permissions.add(Permission.objects.get(codename="act_on_job"))
    job = JobFactory()
    _, key = issue_key(operator, scopes=[JOBS_OPERATE])
    monkeypatch.setattr(actions, "job_action_perform", _refused_by_hwa)
    response = key_client(key).post(f"/api/v1/jobs/{job.pk}/actions/hold/")
    assert response.status_code == 409


def _refused_by_hwa(**kwargs):
    raise ConflictError("HWA refused (stub)")


def test_last_use_is_stamped_at_most_once_a_minute(issue_key, viewer):
    api_key, key = issue_key(viewer)
    client = key_client(key)
    client.get(STATUS)
    api_key.refresh_from_db()
    first = api_key.last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        client.get(STATUS)
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    api_key.refresh_from_db()
    assert api_key.last_used_at == first

    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get(STATUS)
    api_key.refresh_from_db()
    assert api_key.last_used_at > first


def test_two_touches_in_the_same_minute_write_once(issue_key, viewer):
    api_key, _ = issue_key(viewer)
    stale_copy = ApiKey.objects.get(pk=api_key.pk)  # as another process would hold it
    assert services.api_key_touch(api_key=api_key) is True
    assert services.api_key_touch(api_key=stale_copy) is False


# --- rotation --------------------------------------------------------------------------


def test_rotation_issues_a_successor_and_keeps_the_old_key_until_its_grace_time(
    issue_key, viewer, monkeypatch
):
    old, old_key = issue_key(viewer, scopes=[PLAN_READ])
    grace = timezone.now() + timedelta(minutes=30)
    new, new_key = services.api_key_rotate(
        api_key=old, old_valid_until=grace, actor=None, source="command"
    )
    assert new_key != old_key
    assert (new.owner, new.name, new.scopes, new.rotated_from) == (
        viewer,
        old.name,
        [PLAN_READ],
        old,
    )
    assert key_client(old_key).get(STATUS).status_code == 200
    assert key_client(new_key).get(STATUS).status_code == 200

    later = grace + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert key_client(old_key).get(STATUS).json()["detail"] == EXPIRED_KEY
    assert key_client(new_key).get(STATUS).status_code == 200


def test_rotation_defaults_to_one_hour_of_grace(issue_key, viewer):
    old, _ = issue_key(viewer)
    services.api_key_rotate(api_key=old, actor=None, source="command")
    old.refresh_from_db()
    expected = timezone.now() + services.DEFAULT_GRACE
    assert abs((old.expiry_date - expected).total_seconds()) < 60


def test_rotation_never_extends_the_old_keys_life(issue_key, viewer):
    soon = timezone.now() + timedelta(minutes=5)
    old, _ = issue_key(viewer, expires_at=soon)
    new, _ = services.api_key_rotate(
        api_key=old, old_valid_until=soon + timedelta(hours=2), actor=None, source="command"
    )
    old.refresh_from_db()
    assert old.expiry_date == soon
    assert new.expiry_date == soon  # the successor keeps the old expiry unless told


def test_a_revoked_key_cannot_be_rotated(issue_key, viewer):
    old, _ = issue_key(viewer)
    services.api_key_revoke(api_key=old, actor=None, source="command")
    with pytest.raises(ConflictError) as error:
        services.api_key_rotate(api_key=old, actor=None, source="command")
    assert error.value.detail == services.ROTATE_REVOKED


def test_a_key_is_rotated_once_then_its_successor_is(issue_key, viewer):
    old, _ = issue_key(viewer)
    new, _ = services.api_key_rotate(api_key=old, actor=None, source="command")
    with pytest.raises(ConflictError) as error:
        services.api_key_rotate(api_key=old, actor=None, source="command")
    assert error.value.detail == services.ALREADY_ROTATED.format(prefix=new.prefix)
    services.api_key_rotate(api_key=new, actor=None, source="command")


def test_a_grace_time_must_be_within_thirty_days(issue_key, viewer):
    old, _ = issue_key(viewer)
    with pytest.raises(ApplicationError) as error:
        services.api_key_rotate(
            api_key=old,
            old_valid_until=timezone.now() + timedelta(days=31),
            actor=None,
            source="command",
        )
    assert error.value.detail == services.GRACE_TOO_LONG.format(days=30)


def test_issue_rotate_and_revoke_are_audited_without_the_key(issue_key, viewer, admin_user):
    old, old_key = issue_key(viewer)
    new, new_key = services.api_key_rotate(api_key=old, actor=admin_user, source="api")
    services.api_key_revoke(api_key=new, actor=admin_user, source="api")
    created, rotated, revoked = (
        audit_rows("api_key.create"),
        audit_rows("api_key.rotate"),
        audit_rows("api_key.revoke"),
    )
    assert [row.target for row in created] == [f"api_key:{old.prefix}"]
    assert [(row.target, row.actor) for row in rotated] == [(f"api_key:{new.prefix}", admin_user)]
    assert rotated[0].after["rotated_from"] == old.prefix
    assert [row.target for row in revoked] == [f"api_key:{new.prefix}"]
    for row in [*created, *rotated, *revoked]:
        text = str(row.after) + row.detail
        assert old_key.split(".")[1] not in text
        assert new_key.split(".")[1] not in text


def test_every_known_scope_can_be_granted(issue_key, viewer):
    api_key, _ = issue_key(viewer, scopes=list(SCOPES))
    assert tuple(api_key.scopes) == SCOPES


def test_the_verified_key_memory_is_per_key(issue_key, viewer):
    _, first = issue_key(viewer)
    _, second = issue_key(viewer)
    key_client(first).get(STATUS)
    assert len(authentication._verified) == 1
    key_client(second).get(STATUS)
    assert len(authentication._verified) == 2
