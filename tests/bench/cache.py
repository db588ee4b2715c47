"""The cache benchmark, one run, side by side (``python -m tests.bench.cache``).

1. Micro: engine and backends vs LocMemCache, cachetools.TTLCache and django-redis (set /
   hit / miss ops/s), eviction cost at 10k vs 1M entries, RSS after writing 4x the memory
   bound (fresh subprocess) — see ``tests/bench/cache_engine.py``.
2. Hit rate of a replayed request mix under the ``current`` and ``recommended`` presets:
   one simulated hour at 50 req/s of Zipf-distributed job details (100k jobs), job list
   queries (2,000 filter/page variants) and status reads, against the engine with each
   preset's TTL and bounds; a plan sync every 30 s bumps the generation when it changed
   something (a quiet plan: 20 % of syncs; a busy one: every sync).
3. Served: ``jobs/status/`` cached vs uncached (``RESYNC_API_CACHE=0``), gunicorn 2 workers
   on PostgreSQL with 100k jobs and Redis, wrk at 256 connections.

Targets: cache.get >= 2x LocMemCache; raw engine >= TTLCache; cached jobs/status/ >= 10x
uncached with p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import time

from tests.bench import cache_engine, harness

BENCH_DB = "postgres://postgres@127.0.0.1:5432/resync_cachecfg_bench"
SIMULATED_S = 3600
REQUESTS_PER_S = 50
SYNC_EVERY_S = 30
JOBS = 100_000
LIST_VARIANTS = 2_000
# (kind, share of requests, value bytes): rendered JSON sizes measured on the demo plan.
MIX = (("detail", 0.5, 1_600), ("list", 0.3, 26_000), ("status", 0.2, 900))


def zipf_weights(n: int, s: float = 1.1) -> list[float]:
    cumulative, total = [], 0.0
    for rank in range(1, n + 1):
        total += 1 / rank**s
        cumulative.append(total)
    return cumulative


def replay(preset: dict, change_share: float, seed: int = 7) -> float:
    """Hit rate of the simulated hour against an engine configured as ``preset``."""
    from apps.cache.engine import ShardedCache

    rng = random.Random(seed)
    clock = [0.0]
    engine = ShardedCache(
        ttl_seconds=preset["ttl_seconds"],
        max_entries=preset["max_entries"],
        max_memory_bytes=preset["max_memory_mb"] * 2**20,
        num_shards=preset["num_shards"],
        clock=lambda: clock[0],
        start_cleaner=False,
    )
    values = {kind: b"x" * size for kind, _, size in MIX}
    total = SIMULATED_S * REQUESTS_PER_S
    kinds = rng.choices([m[0] for m in MIX], weights=[m[1] for m in MIX], k=total)
    jobs = iter(rng.choices(range(JOBS), cum_weights=zipf_weights(JOBS), k=total))
    lists = iter(
        rng.choices(range(LIST_VARIANTS), cum_weights=zipf_weights(LIST_VARIANTS), k=total)
    )
    generation, hits, next_sync = 0, 0, SYNC_EVERY_S
    for index, kind in enumerate(kinds):
        clock[0] = index / REQUESTS_PER_S
        if clock[0] >= next_sync:
            next_sync += SYNC_EVERY_S
            if rng.random() < change_share:
                generation += 1
        item = next(jobs) if kind == "detail" else next(lists) if kind == "list" else 0
        key = f"api:{kind}:g{generation}:{item}"
        if engine.get(key) is not None:
            hits += 1
        else:
            engine.set(key, values[kind])
    return hits / total


def hit_rates() -> None:
    from apps.cache.services import PRESETS

    print("\nReplayed hit rate (1 simulated hour, 180k requests, Zipf s=1.1, sync every 30 s):")
    print(f"{'plan activity':<34}{'current':>10}{'recommended':>13}")
    for label, share in (
        ("quiet (20% of syncs change it)", 0.2),
        ("busy (every sync changes it)", 1.0),
    ):
        rates = [replay(PRESETS[name], share) for name in ("current", "recommended")]
        print(f"{label:<34}{rates[0]:>10.1%}{rates[1]:>13.1%}   ratio {rates[1] / rates[0]:.2f}x")


def served(duration: int, connections: int) -> None:
    database_url = os.environ.get("BENCH_DATABASE_URL", BENCH_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    harness.ensure_wrk()
    harness.ensure_database(database_url)
    rows = []
    for label, switch in (("uncached", "0"), ("cached", "1")):
        env = harness.bench_env(database_url, REDIS_URL=redis_url, RESYNC_API_CACHE=switch)
        harness.prepare_plan(env)
        token = harness.bench_token(env)
        with harness.gunicorn(env) as server:
            url = server.url + "/api/v1/jobs/status/"
            harness.wrk(url, connections=8, duration=2, token=token)  # warm-up
            rows.append(
                (label, harness.wrk(url, connections=connections, duration=duration, token=token))
            )
    jobs = f"{harness.BENCH_JOBS:,}"
    print(
        f"\njobs/status/ served: gunicorn 2 workers x 4 threads, PostgreSQL {jobs} jobs,"
        f" Redis, wrk {connections} connections, {duration} s"
    )
    print(f"{'':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for label, r in rows:
        print(
            f"{label:<10}{r.requests_per_s:>10.0f}{r.p50_ms:>10.1f}{r.p99_ms:>10.1f}{r.errors:>8}"
        )
    ratio = rows[1][1].requests_per_s / rows[0][1].requests_per_s
    print(f"cached / uncached: {ratio:.1f}x (target >= 10x, p99 < 50 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds per run")
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--skip-served", action="store_true")
    args, _ = parser.parse_known_args()
    started = time.perf_counter()
    cache_engine.main()
    hit_rates()
    if not args.skip_served:
        served(args.duration, args.connections)
    print(f"\ncache bench total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
