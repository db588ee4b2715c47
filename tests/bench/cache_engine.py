"""Micro-benchmark of the cache engine and backends against the usual alternatives.

Run: ``python -m tests.bench.cache_engine`` (part of ``tests.bench.cache``); Redis at
127.0.0.1:6379 (BENCH_REDIS_URL) for the Redis rows.
Single-threaded ops/s, best of three runs, over 10k keys holding small dict values (and, for
the engine and LocMemCache, a ~150-character string and the same as bytes, which the engine
keeps unpickled). The RSS figure is taken in a fresh subprocess.
Then eviction cost per set in a full engine of 10k vs 1M entries, and the RSS growth after
writing 4x max_memory_mb through the engine. Targets: engine hits via Django's cache API
>= 2x LocMemCache; raw engine hits >= cachetools.TTLCache.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
django.setup()

import cachetools  # noqa: E402 - after django.setup()
from django.core.cache.backends.locmem import LocMemCache  # noqa: E402 - after django.setup()
from django_redis.cache import RedisCache  # noqa: E402 - after django.setup()

from apps.cache.backends import ShardedMemoryCache, TieredCache  # noqa: E402 - after django.setup()
from apps.cache.engine import ShardedCache  # noqa: E402 - after django.setup()

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEYS = [f"job:{i}" for i in range(10_000)]
DICT_VALUE = {"id": 1234, "name": "PAYROLL_DAILY", "status": "SUCC", "attempts": 3}
STR_VALUE = '{"id":1234,"name":"PAYROLL_DAILY","status":"SUCC","attempts":3}' * 2
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def ops_per_second(operation: Callable[[str], object], keys: Iterable[str], rounds: int) -> float:
    keys = list(keys)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(rounds):
            for key in keys:
                operation(key)
        best = min(best, time.perf_counter() - start)
    return len(keys) * rounds / best


def measure(name: str, get: Callable, set_: Callable, rounds: int = 5, keys=KEYS) -> tuple:
    misses = [f"miss:{key}" for key in keys]
    set_rate = ops_per_second(set_, keys, 1)
    hit_rate = ops_per_second(get, keys, rounds)
    miss_rate = ops_per_second(get, misses, rounds)
    return name, set_rate, hit_rate, miss_rate


def throughput_rows(value: object, label: str) -> list[tuple]:
    engine = ShardedCache(ttl_seconds=300, max_entries=1_000_000, num_shards=16)
    memory = ShardedMemoryCache(f"bench-{uuid.uuid4()}", {"TIMEOUT": 300})
    locmem = LocMemCache(
        f"bench-{uuid.uuid4()}", {"TIMEOUT": 300, "OPTIONS": {"MAX_ENTRIES": 10**6}}
    )
    ttl = cachetools.TTLCache(maxsize=1_000_000, ttl=300)
    ttl_lock = threading.Lock()

    def ttl_getitem(key: str) -> object:
        try:
            return ttl[key]
        except KeyError:
            return None

    def ttl_locked_get(key: str) -> object:
        with ttl_lock:
            return ttl.get(key)

    rows = [
        measure(f"engine raw ({label})", engine.get, lambda k: engine.set(k, value)),
        measure(
            f"ShardedMemoryCache cache.get ({label})", memory.get, lambda k: memory.set(k, value)
        ),
        measure(f"Django LocMemCache ({label})", locmem.get, lambda k: locmem.set(k, value)),
        measure(
            f"cachetools.TTLCache[k] ({label})",
            ttl_getitem,
            lambda k: ttl.__setitem__(k, value),
        ),
        measure(f"cachetools.TTLCache.get ({label})", ttl.get, lambda k: ttl.__setitem__(k, value)),
        measure(
            f"TTLCache.get + Lock ({label})", ttl_locked_get, lambda k: ttl.__setitem__(k, value)
        ),
    ]
    engine.close()
    return rows


def redis_rows() -> list[tuple]:
    prefix = f"bench-{uuid.uuid4().hex}"
    keys = KEYS[:2000]
    redis = RedisCache(REDIS_URL, {"KEY_PREFIX": prefix, "TIMEOUT": 300})
    tiered = TieredCache(
        REDIS_URL, {"KEY_PREFIX": prefix, "TIMEOUT": 300, "OPTIONS": {"L1_LOCATION": prefix}}
    )
    try:
        redis_row = measure("django-redis", redis.get, lambda k: redis.set(k, DICT_VALUE), 1, keys)
        tiered_row = measure(
            "TieredCache (L1 hits)", tiered.get, lambda k: tiered.set(k, DICT_VALUE), 5, keys
        )

        def l2_hit(key: str) -> object:
            tiered.engine.delete(tiered.key(key))  # force the L1 miss; costs ~1 us
            return tiered.get(key)

        l2_rate = ops_per_second(l2_hit, keys, 1)
        return [redis_row, tiered_row, ("TieredCache (L1 miss, L2 hit)", None, l2_rate, None)]
    finally:
        tiered.clear()


def eviction_cost(capacity: int, sets: int = 100_000) -> float:
    """Microseconds per set when every set evicts (full engine, LRU pop)."""
    engine = ShardedCache(
        max_entries=capacity, max_memory_bytes=2**40, num_shards=16, start_cleaner=False
    )
    for i in range(capacity):
        engine.set(f"fill:{i}", i)
    start = time.perf_counter()
    for i in range(sets):
        engine.set(f"new:{i}", i)
    elapsed = time.perf_counter() - start
    assert engine.stats()["total"]["evictions_entries"] == sets
    del engine
    gc.collect()
    return elapsed / sets * 1e6


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def rss_growth_in_subprocess(max_memory_mb: int = 32) -> tuple[int, int, int]:
    """rss_growth() in a fresh interpreter, so nothing freed earlier hides the growth."""
    import json
    import subprocess

    code = (
        "import json; from tests.bench.cache_engine import rss_growth; "
        f"print(json.dumps(rss_growth({max_memory_mb})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    return tuple(json.loads(out.strip().splitlines()[-1]))


def rss_growth(max_memory_mb: int = 32) -> tuple[int, int, int]:
    gc.collect()
    before = rss_bytes()
    engine = ShardedCache(
        max_memory_bytes=max_memory_mb * 2**20,
        max_entries=10**7,
        num_shards=16,
        start_cleaner=False,
    )
    filler = "x" * 3990
    written = 0
    i = 0
    while written < 4 * max_memory_mb * 2**20:
        # A distinct object per entry: a str is stored as is, so one shared value would be
        # counted per entry but take memory once.
        value = f"{i:010d}{filler}"
        engine.set(f"rss:{i}", value)
        written += len(value)
        i += 1
    after = rss_bytes()
    accounted = engine.stats()["total"]["bytes"]
    return before, after, accounted


def main() -> None:
    started = time.perf_counter()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; ops/s, best of 3\n")
    rows = throughput_rows(DICT_VALUE, "dict") + throughput_rows(STR_VALUE, "str")
    rows += throughput_rows(STR_VALUE.encode(), "bytes")
    try:
        rows += redis_rows()
    except Exception as exc:  # Redis not running: report and go on
        print(f"(Redis rows skipped: {exc!r})")
    print(f"{'backend':44} {'set/s':>11} {'hit/s':>11} {'miss/s':>11}")
    for name, set_rate, hit_rate, miss_rate in rows:
        cells = [
            f"{rate:>11,.0f}" if rate else f"{'-':>11}" for rate in (set_rate, hit_rate, miss_rate)
        ]
        print(f"{name:44} {' '.join(cells)}")
    by_name = {row[0]: row for row in rows}
    for label in ("dict", "str", "bytes"):
        engine = by_name[f"engine raw ({label})"][2]
        memory = by_name[f"ShardedMemoryCache cache.get ({label})"][2]
        locmem = by_name[f"Django LocMemCache ({label})"][2]
        ttl = by_name[f"cachetools.TTLCache[k] ({label})"][2]
        ttl_get = by_name[f"cachetools.TTLCache.get ({label})"][2]
        print(f"\n[{label}] cache.get vs LocMemCache: {memory / locmem:.2f}x (target >= 2x)")
        print(
            f"[{label}] raw engine vs TTLCache[k]: {engine / ttl:.2f}x, "
            f"vs TTLCache.get: {engine / ttl_get:.2f}x (target >= 1x)"
        )
    print("\nEviction cost per set, full engine (every set evicts one LRU entry):")
    for capacity in (10_000, 1_000_000):
        print(f"  {capacity:>9,} entries: {eviction_cost(capacity):.2f} us/set")
    before, after, accounted = rss_growth_in_subprocess()
    print(
        f"\nRSS writing 4 x 32 MB through a 32 MB engine: before {before / 2**20:.0f} MB, "
        f"after {after / 2**20:.0f} MB, growth {(after - before) / 2**20:.0f} MB; "
        f"accounted {accounted / 2**20:.1f} MB (bound 32 MB)"
    )
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
