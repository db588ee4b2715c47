"""The plan generation: shared through the database (and Redis), never moving back, never
reused. Real commits (transaction=True), so the Redis broadcast runs as in production."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import OperationalError

from apps.core import plan_generation as generation_module
from apps.core.config_versions import REDIS_HASH, ConfigWatcher, config_version_bump
from apps.core.models import ConfigVersion
from apps.core.plan_generation import (
    AREA,
    forget,
    plan_generation,
    plan_generation_bump,
    plan_generation_follow,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _new_process() -> Iterator[None]:
    forget()  # each test starts as a process that has not read the generation yet
    yield
    forget()


@pytest.fixture
def local() -> ConfigWatcher:
    """A watcher like each process's, checking only when told to."""
    watcher = ConfigWatcher(interval=3600)
    watcher.register(AREA, plan_generation_follow)
    watcher.poll()
    return watcher


def _stored() -> int:
    return ConfigVersion.objects.get(name=AREA).version


def test_a_bump_moves_the_generation_up_and_this_process_reads_it_at_once():
    before = plan_generation()

    first = plan_generation_bump()
    assert first > before
    assert plan_generation() == first == _stored()

    second = plan_generation_bump()
    assert second > first
    assert plan_generation() == second


def test_another_process_moving_the_area_is_followed_at_the_next_check(local):
    seen = plan_generation()

    config_version_bump(AREA)  # what another process's bump leaves in the shared store
    local.poll(force=True)

    assert plan_generation() == _stored() > seen


def test_a_fresh_database_never_reuses_an_earlier_generation():
    used = plan_generation_bump()
    ConfigVersion.objects.filter(name=AREA).delete()  # a new database, same Redis
    forget()  # and a new process

    assert plan_generation() > used
    assert plan_generation_bump() > used


def test_a_restored_older_row_moves_no_process_back_and_the_next_bump_passes_it(local):
    used = plan_generation_bump()
    ConfigVersion.objects.filter(name=AREA).update(version=1)  # a backup from long ago
    config_version_bump(AREA)  # and a change there that the watcher sees

    local.poll(force=True)
    assert plan_generation() == used

    assert plan_generation_bump() > used


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")
@pytest.mark.parametrize("hash_says", ["stale", "missing"])
def test_the_row_counts_not_a_lagging_or_flushed_redis_hash(local, hash_says):
    current = plan_generation_bump()
    local.poll(force=True)  # this process has followed the current generation
    client = local.redis_client()
    if hash_says == "stale":  # two writers' broadcasts landed out of order
        client.hset(REDIS_HASH, AREA, 1)
    else:  # Redis was flushed, then another area broadcast
        client.hdel(REDIS_HASH, AREA)
        client.hset(REDIS_HASH, "pools-elsewhere", 1)
    forget()

    local.poll(force=True)

    assert plan_generation() == current


def test_a_bump_the_database_refuses_still_moves_this_process(monkeypatch):
    before = plan_generation()

    def refuse(name: str) -> int:
        raise OperationalError("database is locked")

    monkeypatch.setattr(generation_module, "config_version_bump", refuse)

    assert plan_generation_bump() > before
    assert plan_generation() > before
