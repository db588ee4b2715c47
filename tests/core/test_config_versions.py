from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import OperationalError, connection

from apps.core.config_versions import REDIS_HASH, ConfigWatcher, config_version_bump
from apps.core.models import ConfigVersion

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


# Generous bound for a thread that should not block at all (a hang would otherwise be 30 s+).
JOIN_S = 10.0


def _in_thread(target) -> threading.Thread:
    def run() -> None:
        try:
            target()
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_forced_poll_does_not_wait_for_a_slow_apply_and_is_still_applied():
    # The PUT that saves a change forces a poll from its on_commit while still holding its
    # database connection; if another request thread is applying (and needs a connection,
    # or is slow), the forced poll must not queue behind it. The holder re-checks instead.
    local = ConfigWatcher(interval=3600)
    calls: list[int] = []
    applying, resume = threading.Event(), threading.Event()

    def slow(version: int) -> None:
        calls.append(version)
        if len(calls) == 1:
            applying.set()
            resume.wait(3 * JOIN_S)  # released by the test; bounded if it fails

    local.register("things", slow)
    holder = _in_thread(lambda: local.poll(force=True))
    try:
        assert applying.wait(JOIN_S), "the first poll never reached the callback"
        version = config_version_bump("things")
        forced = _in_thread(lambda: local.poll(force=True))
        forced.join(JOIN_S)
        assert not forced.is_alive(), "the forced poll waited for the thread applying"
    finally:
        resume.set()
        holder.join(JOIN_S)
    assert not holder.is_alive()
    assert calls == [0, version]  # the holder applied the change the forced poll announced


@pytest.fixture
def database_down(monkeypatch):
    """Reads of ConfigVersion fail as they do while PostgreSQL is down (Redis not used)."""

    def fail(*args, **kwargs):
        raise OperationalError("the database is unavailable (test)")

    def go_down() -> None:
        monkeypatch.setattr(ConfigVersion.objects, "values_list", fail)

    return go_down


def test_a_failed_read_of_the_versions_changes_nothing(seen, database_down, monkeypatch):
    local, calls = seen
    monkeypatch.setattr(local, "redis_client", lambda: None)
    local.poll()
    version = config_version_bump("things")
    local.poll(force=True)
    assert calls == [0, version]

    database_down()
    local.poll(force=True)

    assert calls == [0, version]  # not re-applied as version 0
    assert local.seen("things") == version


def test_an_apply_that_cannot_read_the_database_is_retried_at_the_next_check(monkeypatch, caplog):
    local = ConfigWatcher(interval=3600)
    monkeypatch.setattr(local, "redis_client", lambda: None)
    attempts: list[int] = []

    def reads_its_settings(version: int) -> None:
        attempts.append(version)
        if len(attempts) < 3:
            raise OperationalError("the database is unavailable (test)")

    local.register("things", reads_its_settings)
    with caplog.at_level("WARNING", logger="apps.core.config_versions"):
        local.poll(force=True)
        local.poll(force=True)
        local.poll(force=True)
        local.poll(force=True)  # applied: not called again

    assert attempts == [0, 0, 0]
    assert len(caplog.records) == 1  # logged once, not at every check
