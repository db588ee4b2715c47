"""Pool presets side by side: `current` vs `recommended` (apps/core/pools/defaults.py).

For each preset: the preset is applied with `manage.py apply_config_preset`, then gunicorn
(2 workers x THREADS threads, DEBUG off, PostgreSQL with the demo plan, Redis cache) is
started: time from process start to the first healthy response (median of STARTS), then wrk
at 64 and 256 connections on a database-bound endpoint, and one worker's pool stats.
Finally a live switch: wrk runs while presets are applied back and forth; it must see 0
errors. Run: `python -m tests.bench.pools` (about 2-3 minutes).

2 workers x max_size 30 = 60 connections, under PostgreSQL's max_connections=100. With the
default 4 threads a worker never uses more than 4 connections, so both presets would look
the same; THREADS=32 lets a worker ask for more connections than `current` allows (20).
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

import httpx

from tests.bench import harness

THREADS = 32
STARTS = 3
PATH = "/api/v1/jobs/?status=Error&ordering=-start&page_size=50"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/resync_pools_bench"
PRESETS = ("current", "recommended")


def _apply(env: dict[str, str], preset: str) -> None:
    harness.manage(env, "apply_config_preset", preset)


def _startup(env: dict[str, str]) -> float:
    with harness.gunicorn(env, threads=THREADS) as server:
        return time.perf_counter() - server.started_at


def _pool_stats(url: str, token: str) -> dict:
    response = httpx.get(
        f"{url}/api/v1/pools/stats/", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    return response.json()["pools"]["database"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--jobs", type=int, default=harness.BENCH_JOBS)
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_POOLS_DATABASE_URL", DEFAULT_DB)
    harness.ensure_wrk()
    harness.ensure_database(database_url)
    env = harness.bench_env(
        database_url, REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    harness.prepare_plan(env, jobs=args.jobs)
    token = harness.bench_token(env)
    monitoring_token = harness.bench_token(env, monitoring=True)

    results = {}
    for preset in PRESETS:
        _apply(env, preset)
        starts = [_startup(env) for _ in range(STARTS)]
        with harness.gunicorn(env, threads=THREADS) as server:
            url = server.url + PATH
            harness.wrk(url, connections=8, duration=2, token=token)  # warm-up
            loads = {
                c: harness.wrk(url, connections=c, duration=args.duration, token=token)
                for c in (64, 256)
            }
            stats = _pool_stats(server.url, monitoring_token)
        results[preset] = (statistics.median(starts), starts, loads, stats)

    # Live switch under load: presets applied back and forth while wrk runs.
    _apply(env, "recommended")
    with harness.gunicorn(env, threads=THREADS) as server:
        switches: list[str] = []

        def switch() -> None:
            for preset in ("current", "recommended", "current"):
                time.sleep(args.duration / 4)
                _apply(env, preset)
                switches.append(preset)

        switcher = threading.Thread(target=switch)
        switcher.start()
        live = harness.wrk(server.url + PATH, connections=64, duration=args.duration, token=token)
        switcher.join()
        after = _pool_stats(server.url, monitoring_token)

    print(
        f"\nPool presets: gunicorn 2 workers x {THREADS} threads, PostgreSQL, {args.jobs:,} jobs,"
        f" GET {PATH}, {args.duration} s per run"
    )
    print(
        f"{'preset':<12}{'start s':>9}{'conns':>7}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}"
    )
    for preset, (start, _, loads, _) in results.items():
        for conns, r in loads.items():
            print(
                f"{preset:<12}{start:>9.2f}{conns:>7}{r.requests_per_s:>9.0f}{r.p50_ms:>9.1f}"
                f"{r.p99_ms:>9.1f}{r.errors:>8}"
            )
    for preset, (_, starts, _, stats) in results.items():
        wait = stats.get("wait", {})
        print(
            f"{preset}: starts {', '.join(f'{s:.2f}' for s in starts)} s; one worker's pool: "
            f"size {stats.get('size')}, acquisitions {stats.get('acquisitions')}, "
            f"queued {stats.get('misses')}, exhaustions {stats.get('exhaustions')}, "
            f"wait p50 {wait.get('p50_ms')} ms max {wait.get('max_ms')} ms"
        )
    cur, rec = results["current"], results["recommended"]
    cur_peak, rec_peak = cur[2][256], rec[2][256]
    print(
        f"recommended vs current: start-up {100 * (rec[0] / cur[0] - 1):+.0f}% time; "
        f"256 conns: req/s {100 * (rec_peak.requests_per_s / cur_peak.requests_per_s - 1):+.0f}%"
        f", p99 {100 * (rec_peak.p99_ms / cur_peak.p99_ms - 1):+.0f}%"
    )
    print(
        f"live switch ({' -> '.join(switches)}) under 64 connections: {live.requests} requests, "
        f"{live.errors} errors, p99 {live.p99_ms:.1f} ms; worker now runs max_size "
        f"{after['config']['max_size']}"
    )


if __name__ == "__main__":
    main()
