"""Behaviour of the sharded TTL/LRU engine."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from apps.cache.engine import ENTRY_OVERHEAD_BYTES, KEY_NOT_FOUND, ShardedCache, entry_size
from apps.cache.engine.cache import BAD_SETTING


def test_a_value_comes_back_equal_but_not_the_same_object(make_engine):
    engine = make_engine()
    value = {"jobs": [1, 2]}
    engine.set("k", value)
    value["jobs"].append(3)
    got = engine.get("k")
    assert got == {"jobs": [1, 2]}
    got["jobs"].clear()
    assert engine.get("k") == {"jobs": [1, 2]}


def test_reads_never_extend_the_ttl(make_engine, clock):
    engine = make_engine(ttl_seconds=10)
    engine.set("hot", "v")
    for _ in range(9):
        clock.advance(1)
        assert engine.get("hot") == "v"
    clock.advance(1)
    assert engine.get("hot", "gone") == "gone"
    assert engine.stats()["total"]["expirations"] == 1


def test_ttl_none_keeps_and_ttl_zero_removes(make_engine, clock):
    engine = make_engine(ttl_seconds=10)
    engine.set("forever", 1, ttl=None)
    engine.set("k", 1)
    assert engine.set("k", 2, ttl=0) is False
    clock.advance(10**6)
    assert engine.get("forever") == 1
    assert engine.get("k") is None


def test_memory_bound_evicts_least_recently_used_and_counts_it(make_engine):
    blob_size = entry_size("k0", b"x" * 100)  # bytes are stored as they are
    engine = make_engine(num_shards=1, max_memory_bytes=blob_size * 3, max_entries=100)
    for i in range(3):
        engine.set(f"k{i}", b"x" * 100)
    engine.get("k0")  # k1 is now the least recently used
    engine.set("k3", b"x" * 100)
    assert engine.get("k1") is None
    assert {engine.get(k) is not None for k in ("k0", "k2", "k3")} == {True}
    total = engine.stats()["total"]
    assert total["evictions_memory"] == 1
    assert total["evictions_entries"] == 0
    assert total["bytes"] <= total["max_bytes"]


def test_entry_bound_evicts_and_counts_it(make_engine):
    engine = make_engine(num_shards=2, max_entries=4)
    for i in range(20):
        engine.set(f"k{i}", i)
    stats = engine.stats()
    assert len(engine) == 4
    assert stats["total"]["evictions_entries"] == 16
    assert all(shard["entries"] <= 2 for shard in stats["shards"])


def test_bytes_are_the_exact_stored_sizes(make_engine):
    engine = make_engine(num_shards=4)
    engine.set("a", "x" * 1000)
    engine.set("bb", list(range(50)))
    engine.set("a", "short")  # overwrite: the old size is released
    engine.delete("bb")
    # Only "a" -> "short" is left: a str is kept as is and counts its real object size.
    expected = sys.getsizeof("short") - sys.getsizeof(b"") + len("a") + ENTRY_OVERHEAD_BYTES
    assert engine.stats()["total"]["bytes"] == expected


def test_immutable_values_are_stored_as_is_and_mutable_ones_as_copies(make_engine):
    engine = make_engine()
    body = b'{"total": 3}'
    engine.set("body", body)
    assert engine.get("body") is body  # no pickle round trip on a hit
    row = {"status": "SUCC"}
    engine.set("row", row)
    engine.get("row")["status"] = "ABEND"
    row["status"] = "HOLD"
    assert engine.get("row") == {"status": "SUCC"}


def test_a_wide_str_counts_its_real_width(make_engine):
    engine = make_engine(num_shards=1)
    engine.set("ascii", "x" * 1000)
    narrow = engine.stats()["total"]["bytes"]
    engine.clear()
    engine.set("ascii", "\U0001f600" * 1000)  # 4 bytes a character in CPython
    assert engine.stats()["total"]["bytes"] >= narrow + 3000


def test_a_value_larger_than_a_shard_budget_is_rejected_and_counted(make_engine):
    engine = make_engine(num_shards=4, max_memory_bytes=4 * 2000)
    engine.set("big", "old")
    assert engine.set("big", "x" * 5000) is False
    assert engine.get("big") is None  # the old value does not survive a failed replace
    assert engine.stats()["total"]["rejected_too_large"] == 1
    assert engine.stats()["total"]["bytes"] == 0


def test_cleanup_does_bounded_work_per_pass(make_engine, clock):
    engine = make_engine(num_shards=1, ttl_seconds=5)
    for i in range(250):
        engine.set(f"k{i}", i)
    clock.advance(6)
    first = engine.cleanup(max_items=100)
    assert (first.removed, first.pending) == (100, True)
    assert len(engine) == 150
    assert engine.cleanup(max_items=100).removed == 100
    last = engine.cleanup(max_items=100)
    assert (last.removed, last.pending) == (50, False)
    assert len(engine) == 0
    assert engine.stats()["total"]["bytes"] == 0


def test_cleanup_skips_entries_whose_ttl_was_renewed(make_engine, clock):
    engine = make_engine(num_shards=1, ttl_seconds=5)
    engine.set("renewed", 1)
    engine.set("touched", 1)
    clock.advance(4)
    engine.set("renewed", 2)
    engine.touch("touched", 10)
    clock.advance(2)
    assert engine.cleanup().removed == 0
    assert engine.get("renewed") == 2
    assert engine.get("touched") == 1


def test_the_background_cleaner_removes_expired_entries_and_stops():
    engine = ShardedCache(ttl_seconds=0.01, cleanup_interval=0.02, num_shards=2)
    try:
        engine.set("k", 1)
        deadline = time.monotonic() + 5
        while len(engine) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(engine) == 0
        assert engine.stats()["total"]["expirations"] == 1
        cleaner = engine._cleaner
        engine.close()
        cleaner.join(timeout=5)
        assert not cleaner.is_alive()
    finally:
        engine.close()


def test_shrinking_bounds_evicts_at_once(make_engine):
    engine = make_engine(num_shards=2, max_entries=100)
    for i in range(100):
        engine.set(f"k{i}", i)
    engine.reconfigure(max_entries=10, max_memory_bytes=10**6)
    stats = engine.stats()
    assert len(engine) <= 10
    assert stats["total"]["evictions_entries"] >= 90
    assert stats["config"]["max_entries"] == 10


def test_resharding_keeps_every_live_entry(make_engine, clock):
    engine = make_engine(num_shards=4, ttl_seconds=10)
    for i in range(500):
        engine.set(f"k{i}", i)
    engine.set("expired", 1, ttl=1)
    clock.advance(2)
    engine.reconfigure(num_shards=7)
    assert engine.stats()["config"]["num_shards"] == 7
    assert all(engine.get(f"k{i}") == i for i in range(500))
    assert engine.get("expired") is None
    assert len(engine) == 500


def test_resharding_under_concurrent_writes_loses_no_deletes():
    engine = ShardedCache(num_shards=8, start_cleaner=False)
    for i in range(2000):
        engine.set(f"k{i}", "old")
    stop = threading.Event()

    def rewrite() -> None:
        for i in range(2000):
            engine.delete(f"k{i}")
            engine.set(f"n{i}", "new")
        stop.set()

    writer = threading.Thread(target=rewrite)
    writer.start()
    for shards in (3, 16, 5):
        engine.reconfigure(num_shards=shards)
    writer.join()
    assert all(engine.get(f"k{i}") is None for i in range(2000))
    assert all(engine.get(f"n{i}") == "new" for i in range(2000))


def test_changing_ttl_applies_to_later_writes(make_engine, clock):
    engine = make_engine(ttl_seconds=100)
    engine.set("before", 1)
    engine.reconfigure(ttl_seconds=5)
    engine.set("after", 1)
    clock.advance(6)
    assert engine.get("after") is None
    assert engine.get("before") == 1


def test_add_touch_has_incr(make_engine, clock):
    engine = make_engine(ttl_seconds=10)
    assert engine.add("k", 1) is True
    assert engine.add("k", 2) is False
    assert engine.incr("k", 5) == 6
    assert engine.has("k")
    clock.advance(9)
    assert engine.touch("k", 10) is True
    clock.advance(5)
    assert engine.get("k") == 6
    with pytest.raises(ValueError, match=KEY_NOT_FOUND % "missing"):
        engine.incr("missing")


def test_incr_keeps_the_ttl(make_engine, clock):
    engine = make_engine(ttl_seconds=10)
    engine.set("n", 1)
    clock.advance(9)
    engine.incr("n")
    clock.advance(2)
    assert engine.get("n") is None


def test_many_operations(make_engine):
    engine = make_engine()
    assert engine.set_many({"a": 1, "b": 2}) == []
    assert engine.get_many(["a", "b", "c"]) == {"a": 1, "b": 2}
    assert engine.delete_many(["a", "c"]) == 1
    engine.clear()
    assert len(engine) == 0


def test_counters_per_shard_add_up(make_engine):
    engine = make_engine(num_shards=4)
    engine.set("a", 1)
    engine.get("a")
    engine.get("zz")
    engine.delete("a")
    stats = engine.stats()
    assert (stats["total"]["hits"], stats["total"]["misses"]) == (1, 1)
    assert (stats["total"]["sets"], stats["total"]["deletes"]) == (1, 1)
    assert sum(shard["hits"] for shard in stats["shards"]) == 1


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match=BAD_SETTING % ("num_shards", 0)):
        ShardedCache(num_shards=0)


def test_get_or_set_calls_the_factory_once_for_100_threads():
    engine = ShardedCache(start_cleaner=False)
    calls = []
    release = threading.Event()
    barrier = threading.Barrier(100)

    def factory() -> dict:
        calls.append(1)
        release.wait(5)
        return {"answer": 42}

    results = []

    def worker() -> None:
        barrier.wait()
        results.append(engine.get_or_set("k", factory))

    threads = [threading.Thread(target=worker) for _ in range(100)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)  # let every thread reach the wait (not a timing assertion)
    release.set()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert results == [{"answer": 42}] * 100
    assert len({id(result) for result in results}) >= 99  # each waiter has its own copy


def test_get_or_set_factory_errors_reach_every_waiter_and_cache_nothing():
    engine = ShardedCache(start_cleaner=False)
    release = threading.Event()
    calls = []

    def factory() -> None:
        calls.append(1)
        release.wait(5)
        raise RuntimeError("origin down")

    errors = []

    def worker() -> None:
        try:
            engine.get_or_set("k", factory)
        except RuntimeError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    release.set()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert errors == ["origin down"] * 20
    assert engine.get("k", "none") == "none"
