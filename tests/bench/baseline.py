"""`make bench`: the baseline figures of Resync served for real.

gunicorn (2 workers, DEBUG off) on PostgreSQL with 100,000 demo jobs and Redis as the
cache, driven by wrk at 64 connections over loopback. Prints requests/s, p50 and p99 per
endpoint, and RSS per worker.
"""

from __future__ import annotations

import argparse
import os

from tests.bench import harness

ENDPOINTS = [
    ("health/", "/api/v1/health/"),
    ("jobs/status/", "/api/v1/jobs/status/"),
    ("jobs/ filtered", "/api/v1/jobs/?status=Error&ordering=-start&page_size=50"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", harness.DEFAULT_DB)
    harness.ensure_wrk()
    harness.ensure_database(database_url)
    env = harness.bench_env(
        database_url, REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    harness.prepare_plan(env)
    token = harness.bench_token(env)

    rows = []
    with harness.gunicorn(env) as server:
        for label, path in ENDPOINTS:
            url = server.url + path
            harness.wrk(url, connections=8, duration=2, token=token)  # warm-up
            result = harness.wrk(
                url, connections=args.connections, duration=args.duration, token=token
            )
            rows.append((label, result))
        rss = server.worker_rss_mb()

    print(
        f"\nResync baseline: gunicorn 2 workers x 4 threads, PostgreSQL, {harness.BENCH_JOBS:,} "
        f"jobs, {args.connections} connections, {args.duration} s each"
    )
    print(f"{'endpoint':<16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'errors':>8}")
    for label, r in rows:
        print(
            f"{label:<16}{r.requests_per_s:>10.0f}{r.p50_ms:>10.1f}{r.p99_ms:>10.1f}"
            f"{r.requests:>10}{r.errors:>8}"
        )
    print("RSS per worker (MB): " + ", ".join(f"{mb:.0f}" for mb in rss))


if __name__ == "__main__":
    main()
