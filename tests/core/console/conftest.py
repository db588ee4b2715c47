"""Console fixtures: a signed-in browser client per role and a demo plan of a given size."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.core.console.layout import pages_forget
from apps.core.selectors import sync
from apps.core.selectors.console import sync_banner_reset
from apps.core.services.demo_plan import demo_plan_load
from apps.security import authentication
from tests.core.assistant.conftest import llm  # noqa: F401 (fixture)
from tests.security.test_csp_browser import browser, visit  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def _freshness_read_once(db, monkeypatch):
    # As for the API tests: the freshness (one query a second in production) is read once,
    # so it does not land on whichever request a test counts.
    monkeypatch.setattr(sync, "FRESHNESS_TTL_S", float("inf"))
    sync.freshness_reset()
    sync_banner_reset()
    sync.plan_freshness()
    yield
    sync.freshness_reset()
    sync_banner_reset()


@pytest.fixture(autouse=True)
def _no_pages_kept_from_other_tests():
    pages_forget()
    yield
    pages_forget()


@pytest.fixture(autouse=True)
def _users_remembered_until_changed(monkeypatch):
    # Signed-in users come from the JWT path's user cache, re-read every 5 s: keep them
    # until a change evicts them, so a query count does not depend on the clock.
    monkeypatch.setattr(authentication, "USER_CACHE_SECONDS", float("inf"))
    authentication.forget_all_users()
    yield
    authentication.forget_all_users()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def plan(db):
    """A demo plan of 60 jobs (every internal state, status events, streams, agents)."""
    demo_plan_load(jobs=60, seed=3)
