from __future__ import annotations

import pytest
from django.conf import settings

from apps.core.config_versions import REDIS_HASH, ConfigWatcher, config_version_bump

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seen():
    calls: list[int] = []
    local = ConfigWatcher(interval=3600)
    local.register("things", calls.append)
    return local, calls


def test_a_new_process_applies_the_current_configuration_once(seen):
    local, calls = seen
    local.poll()
    local.poll(force=True)
    assert calls == [0]


def test_a_bump_is_applied_at_the_next_check(seen):
    local, calls = seen
    local.poll()
    version = config_version_bump("things")
    local.poll(force=True)
    assert calls == [0, version]
    assert version == 1


def test_checks_are_throttled(seen):
    local, calls = seen
    local.poll()
    config_version_bump("things")
    local.poll()  # within the interval: not checked
    assert calls == [0]


def test_a_failing_callback_does_not_block_other_areas():
    local = ConfigWatcher()
    applied: list[int] = []

    def broken(version: int) -> None:
        raise RuntimeError("boom")

    local.register("broken", broken)
    local.register("fine", applied.append)
    config_version_bump("fine")
    local.poll(force=True)
    assert applied == [1]


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")
def test_the_version_is_broadcast_through_redis(seen):
    local, calls = seen
    version = config_version_bump("things")
    client = local.redis_client()
    assert int(client.hget(REDIS_HASH, "things")) == version
    local.poll(force=True)
    assert calls[-1] == version
