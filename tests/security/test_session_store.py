"""The cached_db session store finds its cache on first use (apps/security/sessions)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.security.sessions.cached_db import SessionStore


def test_a_store_no_request_reads_never_looks_its_cache_up():
    store = SessionStore()
    assert "_cache" not in store.__dict__


@pytest.mark.django_db
def test_a_session_is_written_through_and_read_back_from_the_cache(settings):
    settings.SESSION_CACHE_ALIAS = "default"  # Redis's shared alias in production
    store = SessionStore()
    store["who"] = "operator"
    store.create()
    with CaptureQueriesContext(connection) as queries:
        assert SessionStore(store.session_key)["who"] == "operator"
    assert len(queries) == 0  # from the cache
    SessionStore(store.session_key).delete()
    assert SessionStore(store.session_key).load() == {}
