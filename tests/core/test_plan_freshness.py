"""The freshness headers' read degrades during a database outage instead of failing."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from apps.core.models import SyncRun
from apps.core.selectors import sync

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_read(monkeypatch):
    monkeypatch.setattr(sync, "FRESHNESS_TTL_S", 0.0)  # every call reads (or tries to)
    sync.freshness_reset()
    yield
    sync.freshness_reset()


def _database_down(monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise OperationalError("the database is unavailable (test)")

    monkeypatch.setattr(SyncRun.objects, "exclude", fail)


def test_it_keeps_the_last_freshness_known_while_the_database_is_down(monkeypatch):
    SyncRun.objects.create(status=SyncRun.Status.FAILED, error="HWA refused")
    known = sync.plan_freshness()
    _database_down(monkeypatch)

    assert sync.plan_freshness() == known
    assert known.status == "failed"


def test_with_nothing_known_it_says_unknown(monkeypatch):
    _database_down(monkeypatch)

    assert sync.plan_freshness() == sync.Freshness(None, sync.UNKNOWN)
