"""Keep the freshness headers' read out of per-request query counts (as for the watcher)."""

from __future__ import annotations

import pytest

from apps.core.selectors import sync


@pytest.fixture(autouse=True)
def _freshness_read_once(db, monkeypatch):
    # Read once now and keep it until a sync (or a test) resets it, so the one query a
    # second that the headers cost in production does not land on whichever request is first.
    monkeypatch.setattr(sync, "FRESHNESS_TTL_S", float("inf"))
    sync.freshness_reset()
    sync.plan_freshness()
    yield
    sync.freshness_reset()
