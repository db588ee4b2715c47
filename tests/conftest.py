"""Shared fixtures: personas (as healthchecks does with alice/bob) and API clients."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.core.config_versions import watcher
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _no_background_config_polling(monkeypatch):
    # The per-request config check would add a query to whichever request comes first;
    # tests that exercise live configuration call watcher.poll(force=True) themselves.
    monkeypatch.setattr(watcher, "_next_check", float("inf"))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default PBKDF2 work factor makes every test user cost ~100 ms.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clean_cache():
    # Tests share one cache (Redis in CI): start each from empty.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def viewer(db):
    """An authenticated user with no special rights."""
    return UserFactory(username="viewer")


@pytest.fixture
def staff(db):
    """A staff member (sees health details)."""
    return UserFactory(username="staff", is_staff=True)


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
def staff_client(staff) -> APIClient:
    return _client_for(staff)


@pytest.fixture
def admin_client_api(admin_user) -> APIClient:
    return _client_for(admin_user)
