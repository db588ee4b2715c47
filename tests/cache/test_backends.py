"""The Django backends: memory semantics, and the tiered backend against the real Redis."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from apps.cache.backends import BAD_OPTION, ShardedMemoryCache, TieredCache

REDIS_URL = "redis://127.0.0.1:6379/0"
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"


def memory_cache(**options) -> ShardedMemoryCache:
    params = {"TIMEOUT": options.pop("TIMEOUT", 300), "OPTIONS": options}
    return ShardedMemoryCache(f"test-{uuid.uuid4()}", params)


def tiered_cache(location: str = REDIS_URL, **options) -> TieredCache:
    options.setdefault("SOCKET_CONNECT_TIMEOUT", 0.2)
    options.setdefault("SOCKET_TIMEOUT", 0.2)
    params = {
        "TIMEOUT": options.pop("TIMEOUT", 60),
        "KEY_PREFIX": f"resync-test-{uuid.uuid4().hex}",
        "OPTIONS": {"L1_LOCATION": str(uuid.uuid4()), **options},
    }
    return TieredCache(location, params)


@pytest.fixture
def tiered():
    cache = tiered_cache()
    yield cache
    cache.clear()  # deletes this test's KEY_PREFIX only


# --- ShardedMemoryCache ----------------------------------------------------------------
def test_django_semantics():
    cache = memory_cache()
    cache.set("a", {"x": 1})
    assert cache.get("a") == {"x": 1}
    assert cache.get("missing", "dflt") == "dflt"
    assert cache.add("a", 2) is False
    assert cache.add("b", 2) is True
    assert cache.incr("b", 3) == 5
    assert cache.decr("b") == 4
    with pytest.raises(ValueError, match="not found"):
        cache.incr("nope")
    assert cache.has_key("a")
    assert cache.touch("a", 100) is True
    assert cache.delete("a") is True
    assert cache.delete("a") is False
    assert cache.set_many({"c": 1, "d": 2}) == []
    assert cache.get_many(["c", "d", "e"]) == {"c": 1, "d": 2}
    cache.delete_many(["c", "d"])
    assert cache.get_many(["c", "d"]) == {}
    cache.set("v", 1, version=2)
    assert cache.get("v") is None
    assert cache.get("v", version=2) == 1
    cache.clear()
    assert cache.get("b") is None


def test_timeout_zero_does_not_cache_and_none_is_forever():
    cache = memory_cache()
    cache.set("k", 1)
    cache.set("k", 2, timeout=0)
    assert cache.get("k") is None
    cache.set("f", 1, timeout=None)
    assert cache.engine.stats()["total"]["entries"] == 1
    shard = cache.engine._shard(cache.key("f"))
    assert shard.data[cache.key("f")][1] == float("inf")


def test_options_build_the_engine_and_locations_share_it():
    params = {"TIMEOUT": 42, "OPTIONS": {"MAX_MEMORY_MB": 2, "MAX_ENTRIES": 64, "NUM_SHARDS": 4}}
    location = f"test-{uuid.uuid4()}"
    first = ShardedMemoryCache(location, params)
    second = ShardedMemoryCache(location, params)
    assert first.engine is second.engine
    assert first.engine.config() == {
        "ttl_seconds": 42,
        "max_entries": 64,
        "max_memory_bytes": 2 * 1024 * 1024,
        "num_shards": 4,
        "cleanup_interval": 30,
    }


def test_bad_options_are_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=BAD_OPTION % ("NUM_SHARDS", 0)):
        memory_cache(NUM_SHARDS=0)


def test_the_default_timeout_follows_a_live_reconfigure():
    cache = memory_cache(TIMEOUT=300)
    cache.engine.reconfigure(ttl_seconds=None)
    cache.set("k", 1)
    assert cache.engine._shard(cache.key("k")).data[cache.key("k")][1] == float("inf")


def test_long_keys_still_warn():
    from django.core.cache.backends.base import CacheKeyWarning

    with pytest.warns(CacheKeyWarning):
        memory_cache().set("x" * 300, 1)


def test_get_or_set_runs_a_callable_default_once_across_threads():
    cache = memory_cache()
    calls = []
    gate = threading.Event()

    def compute() -> str:
        calls.append(1)
        gate.wait(5)
        return "value"

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_set("k", compute)))
        for _ in range(30)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    gate.set()
    for thread in threads:
        thread.join()
    assert calls == [1]
    assert results == ["value"] * 30


# --- TieredCache against the real Redis -------------------------------------------------
def test_writes_reach_both_tiers(tiered):
    tiered.set("k", {"a": 1})
    assert tiered.l2.get("k") == {"a": 1}
    assert tiered.engine.get(tiered.key("k")) == {"a": 1}


def test_an_l1_miss_is_filled_from_l2_with_the_remaining_ttl(tiered):
    tiered.l2.set("k", "from-redis", timeout=30)
    assert tiered.get("k") == "from-redis"
    assert tiered.stats()["l2"]["hits"] == 1
    deadline = tiered.engine._shard(tiered.key("k")).data[tiered.key("k")][1]
    assert 20 < deadline - time.monotonic() <= 30
    tiered.l2.delete("k")
    assert tiered.get("k") == "from-redis"  # now served by L1
    assert tiered.stats()["l2"]["hits"] == 1


def test_the_l1_copy_is_capped_by_the_l1_ttl():
    cache = tiered_cache(L1_TIMEOUT=5)
    try:
        cache.l2.set("k", 1, timeout=None)
        assert cache.get("k") == 1
        deadline = cache.engine._shard(cache.key("k")).data[cache.key("k")][1]
        assert deadline - time.monotonic() <= 5
    finally:
        cache.clear()


def test_delete_incr_and_many_go_through_redis(tiered):
    tiered.set_many({"a": 1, "b": 2})
    assert tiered.get_many(["a", "b", "c"]) == {"a": 1, "b": 2}
    assert tiered.incr("a", 10) == 11
    assert tiered.get("a") == 11
    assert tiered.delete("b") is True
    assert tiered.l2.get("b") is None
    assert tiered.get("b") is None
    assert tiered.add("b", 3) is True
    assert tiered.add("b", 4) is False


def test_clear_leaves_other_prefixes_alone(tiered):
    other = tiered_cache()
    try:
        other.set("keep", 1)
        tiered.set("drop", 1)
        tiered.clear()
        assert tiered.l2.get("drop") is None
        assert other.l2.get("keep") == 1
    finally:
        other.clear()


def test_get_or_set_checks_redis_before_the_origin(tiered):
    tiered.l2.set("k", "cached")
    assert tiered.get_or_set("k", lambda: pytest.fail("origin called")) == "cached"
    assert tiered.get_or_set("new", lambda: "computed") == "computed"
    assert tiered.l2.get("new") == "computed"


def test_with_redis_down_it_fails_open_and_counts_errors():
    cache = tiered_cache(CLOSED_PORT_URL, L2_BACKOFF_SECONDS=0)
    cache.set("k", "kept in memory")  # L2 write fails, L1 still gets it
    assert cache.get("k") == "kept in memory"
    assert cache.get("missing", "origin") == "origin"
    assert cache.get_or_set("computed", lambda: 7) == 7
    assert cache.incr("computed") == 8
    assert cache.delete("k") is True
    assert cache.has_key("k") is False
    cache.clear()
    l2 = cache.stats()["l2"]
    assert l2["errors"] >= 6
    assert l2["hits"] == 0


def test_after_a_failure_redis_is_skipped_for_the_back_off():
    cache = tiered_cache(CLOSED_PORT_URL, L2_BACKOFF_SECONDS=60)
    for _ in range(5):
        assert cache.get("k") is None
    l2 = cache.stats()["l2"]
    assert (l2["errors"], l2["skipped"], l2["down"]) == (1, 4, True)


def test_l2_failures_are_logged_at_most_once_per_interval(caplog):
    cache = tiered_cache(CLOSED_PORT_URL, L2_BACKOFF_SECONDS=0, L2_LOG_EVERY_SECONDS=3600)
    with caplog.at_level("WARNING", logger="apps.cache.backends"):
        for _ in range(5):
            cache.get("k")
    assert cache.stats()["l2"]["errors"] == 5
    assert len(caplog.records) == 1


def test_every_threads_backend_shares_the_error_counts_and_the_back_off():
    # Django builds one backend instance per thread; the process's figures must add up.
    l1 = str(uuid.uuid4())
    caches = [tiered_cache(CLOSED_PORT_URL, L1_LOCATION=l1, L2_BACKOFF_SECONDS=60)]
    thread = threading.Thread(
        target=lambda: caches.append(tiered_cache(CLOSED_PORT_URL, L1_LOCATION=l1))
    )
    thread.start()
    thread.join()
    other_thread_cache = caches[1]
    assert other_thread_cache.get("k") is None  # fails: counted, and L2 now backs off

    l2 = caches[0].stats()["l2"]
    assert (l2["errors"], l2["down"]) == (1, True)
    assert caches[0].get("k") is None
    assert caches[0].stats()["l2"]["skipped"] == 1  # the back-off applied to this one too


def test_check_shared_asks_redis_itself_not_the_memory_tier():
    cache = tiered_cache(CLOSED_PORT_URL, L2_BACKOFF_SECONDS=60)
    cache.set("k", "v")  # fails in Redis, lands in memory: reads would look fine
    assert cache.get("k") == "v"

    with pytest.raises(ConnectionError, match="Redis unavailable"):
        cache.check_shared()


def test_check_shared_passes_with_redis_up(tiered):
    tiered.check_shared()
    assert tiered.stats()["l2"]["errors"] == 0
