"""Shared fixtures: personas, one per role (as healthchecks does with alice/bob), and clients."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from rest_framework.test import APIClient

from apps.core.config_versions import watcher
from apps.monitoring.health import health_results_clear
from apps.monitoring.metrics.stored import stored_reset
from apps.monitoring.services import recorder as security_event_recorder
from apps.security.api_keys.authentication import forget_verified_keys
from apps.security.roles import ADMINISTRATOR, AUDITOR, OPERATOR, ROLES, VIEWER
from apps.security.throttling import forget_login_blocks
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _no_background_config_polling(monkeypatch):
    # The per-request config check would add a query to whichever request comes first;
    # tests that exercise live configuration call watcher.poll(force=True) themselves.
    monkeypatch.setattr(watcher, "_next_check", float("inf"))


@pytest.fixture(autouse=True)
def _security_events_flushed_by_hand(monkeypatch):
    # The recorder's thread would write on its own connection, outside each test's
    # transaction; tests call security_events_flush() (tests/monitoring starts the thread).
    monkeypatch.setattr(security_event_recorder, "autostart", False)
    security_event_recorder.clear()
    yield
    security_event_recorder.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default PBKDF2 work factor makes every test user cost ~100 ms.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_api_key_hashing(settings):
    # API keys hash like passwords (PBKDF2, ~1M rounds); tests/security checks the default.
    settings.RESYNC_API_KEY_HASH_ITERATIONS = 1_000


def _clear_counters() -> None:
    for alias in ("shared", "throttle"):
        # A database cache is rolled back with each test's transaction (and needs one).
        if not isinstance(caches[alias], DatabaseCache):
            caches[alias].clear()
    forget_login_blocks()
    forget_verified_keys()


@pytest.fixture(autouse=True)
def _clean_cache():
    # Tests share one cache (Redis in CI): start each from empty. Lockout and throttle
    # counters too: every test client comes from 127.0.0.1.
    cache.clear()
    _clear_counters()
    yield
    cache.clear()
    _clear_counters()


@pytest.fixture(autouse=True)
def _fresh_health_and_metrics():
    # Health results are kept for a second and database-backed metrics for 15 s per
    # process: each test reads its own state, not the previous test's.
    health_results_clear()
    stored_reset()
    yield
    health_results_clear()
    stored_reset()


def _with_role(username: str, role: str | None, **flags):
    """A user in one of the roles the migration created (None: no role at all)."""
    user = UserFactory(username=username, **flags)
    if role is not None:
        user.groups.add(_role_group(role))
    return user


def _role_group(role: str) -> Group:
    """The role's group; made again if a transactional test's flush removed the migrated one."""
    group, created = Group.objects.get_or_create(name=role)
    if created:
        for permission in ROLES[role]:
            app_label, codename = permission.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return group


@pytest.fixture
def viewer(db):
    """Reads the plan."""
    return _with_role("viewer", VIEWER)


@pytest.fixture
def operator(db):
    """Reads the plan and acts on jobs."""
    return _with_role("operator", OPERATOR)


@pytest.fixture
def administrator(db):
    """Configures pools, cache, the HWA connection, users (not a superuser)."""
    return _with_role("administrator", ADMINISTRATOR, is_staff=True)


@pytest.fixture
def auditor(db):
    """Reads the audit log and the statistics; changes nothing."""
    return _with_role("auditor", AUDITOR, is_staff=True)


@pytest.fixture
def outsider(db):
    """Signed in, but holds no role."""
    return _with_role("outsider", None)


@pytest.fixture
def admin_user(db):
    """A superuser."""
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def viewer_client(viewer) -> APIClient:
    return _client_for(viewer)


@pytest.fixture
def operator_client(operator) -> APIClient:
    return _client_for(operator)


@pytest.fixture
def administrator_client(administrator) -> APIClient:
    return _client_for(administrator)


@pytest.fixture
def auditor_client(auditor) -> APIClient:
    return _client_for(auditor)


@pytest.fixture
def outsider_client(outsider) -> APIClient:
    return _client_for(outsider)


@pytest.fixture
def admin_client_api(admin_user) -> APIClient:
    return _client_for(admin_user)


@pytest.fixture
def api_objects(db, admin_user) -> dict[str, int | str]:
    """One object of each API collection, by the collection's URL segment (for URL tables)."""
    from apps.core.models import Conversation
    from apps.security.api_keys.services import api_key_create
    from apps.security.cors.services import cors_origin_create
    from apps.security.scopes import PLAN_READ
    from tests.factories import JobFactory

    job = JobFactory()
    conversation = Conversation.objects.create(user=admin_user, title="api-objects")
    api_key, _ = api_key_create(
        owner=UserFactory(), name="api-objects", scopes=[PLAN_READ], actor=None, source="test"
    )
    origin = cors_origin_create(
        values={"origin": "https://objects.example"}, actor=None, source="test"
    )
    return {
        "jobs": job.pk,
        "workstations": job.workstation_id,
        "jobstreams": job.stream_id,
        "api-keys": api_key.prefix,
        "cors-origins": origin.pk,
        "conversations": conversation.pk,
    }
