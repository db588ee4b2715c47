"""Stampede guard: 100 concurrent misses on one key compute it once."""

from __future__ import annotations

import os
import threading
import time
import uuid

from apps.cache.backends import ShardedMemoryCache, TieredCache
from apps.cache.flight import get_or_compute

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/13"


def tiered(prefix: str) -> TieredCache:
    # Each instance has its own memory tier: two of them behave like two processes.
    params = {"KEY_PREFIX": prefix, "TIMEOUT": 60, "OPTIONS": {"L1_LOCATION": uuid.uuid4().hex}}
    return TieredCache(REDIS_URL, params)


def stampede(caches_by_thread, threads: int = 100) -> tuple[int, list]:
    computations = []
    results = []
    start = threading.Barrier(threads)

    def compute() -> bytes:
        computations.append(1)
        time.sleep(0.3)  # a slow query: every other caller arrives while it runs
        return b'{"total": 100000}'

    def call(index: int) -> None:
        start.wait()
        cache = caches_by_thread[index % len(caches_by_thread)]
        results.append(get_or_compute("jobs-status", compute, cache=cache))

    workers = [threading.Thread(target=call, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(computations), results


def test_100_threads_missing_one_key_compute_it_once_in_memory():
    cache = ShardedMemoryCache(f"flight-{uuid.uuid4()}", {"TIMEOUT": 60})
    count, results = stampede([cache])
    assert count == 1
    assert results == [b'{"total": 100000}'] * 100


def test_100_threads_in_two_processes_compute_it_once_through_the_redis_lock():
    prefix = f"resync-flight-{uuid.uuid4().hex}"
    first, second = tiered(prefix), tiered(prefix)
    try:
        count, results = stampede([first, second])
        assert count == 1
        assert results == [b'{"total": 100000}'] * 100
        assert first.engine is not second.engine
    finally:
        first.clear()


def test_with_redis_down_each_process_still_answers():
    params = {
        "KEY_PREFIX": "down",
        "OPTIONS": {
            "L1_LOCATION": uuid.uuid4().hex,
            "SOCKET_CONNECT_TIMEOUT": 0.2,
            "SOCKET_TIMEOUT": 0.2,
        },
    }
    cache = TieredCache("redis://127.0.0.1:1/0", params)
    count, results = stampede([cache], threads=20)
    assert count == 1  # the in-process guard still holds; the lock fails open
    assert results == [b'{"total": 100000}'] * 20
