"""What metrics and health cost (``python -m tests.bench.metrics``).

1. The metrics middleware: the same server (gunicorn 2 workers x 4 threads, production
   settings, PostgreSQL with the demo plan, Redis, multiprocess metrics through
   resync_site/gunicorn.conf.py) with and without it (``RESYNC_HTTP_METRICS=0``), on a cached read
   (``jobs/status/``). Rounds alternate without/with, so drift on the machine hits both;
   each side keeps its best round. Target: the middleware costs < 5 % of the cached read's
   throughput.
2. Health, with the middleware: ``health/``, ``health/ready/`` and ``health/live/`` next to
   a plain Django view (``/bench/plain/``, tests/bench/urls.py): the checks run at most
   once a second per process, so health should cost about what a plain view does.

Options: ``--duration`` (wrk seconds per run, 10), ``--connections`` (64), ``--rounds`` (2),
``--jobs`` (demo plan size, 100,000). Databases: ``BENCH_DATABASE_URL`` (resync_bench),
``BENCH_REDIS_URL`` (Redis DB 14).
"""

from __future__ import annotations

import argparse
import time

from tests.bench import harness

CACHED_READ = "/api/v1/jobs/status/"
HEALTH = [
    ("plain Django view", "/bench/plain/"),
    ("health/live/", "/api/v1/health/live/"),
    ("health/ready/", "/api/v1/health/ready/"),
    ("health/", "/api/v1/health/"),
]
TARGET = 0.05


def _measure(env: dict[str, str], path: str, args, token: str | None) -> harness.LoadResult:
    with harness.gunicorn(env) as server:
        return _load(server.url + path, args, token)


def _load(url: str, args, token: str | None) -> harness.LoadResult:
    harness.wrk(url, connections=8, duration=2, token=token)  # warm-up: caches, pools
    return harness.wrk(url, connections=args.connections, duration=args.duration, token=token)


def _best(results: list[harness.LoadResult]) -> harness.LoadResult:
    return max(results, key=lambda r: r.requests_per_s)


def middleware_cost(env: dict[str, str], args, token: str) -> None:
    runs: dict[str, list[harness.LoadResult]] = {"without": [], "with": []}
    for _ in range(args.rounds):
        for label, switch in (("without", "0"), ("with", "1")):
            runs[label].append(
                _measure({**env, "RESYNC_HTTP_METRICS": switch}, CACHED_READ, args, token)
            )
    without, with_ = _best(runs["without"]), _best(runs["with"])
    print(f"\n1. metrics middleware on cached {CACHED_READ} (best of {args.rounds} rounds)")
    _table([("without middleware", without), ("with middleware", with_)])
    cost = 1 - with_.requests_per_s / without.requests_per_s
    verdict = "ok" if cost < TARGET else "OVER TARGET"
    print(f"throughput cost {cost:+.1%}, p50 {with_.p50_ms - without.p50_ms:+.2f} ms"
          f" (target < {TARGET:.0%}: {verdict})")  # fmt: skip


def health_cost(env: dict[str, str], args) -> None:
    rows = []
    with harness.gunicorn(env) as server:
        for label, path in HEALTH:
            rows.append((label, _load(server.url + path, args, None)))
    print("\n2. health vs a plain Django view (with the middleware)")
    _table(rows)


def _table(rows: list[tuple[str, harness.LoadResult]]) -> None:
    print(f"{'':<24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for label, r in rows:
        print(
            f"{label:<24}{r.requests_per_s:>10.0f}{r.p50_ms:>10.2f}{r.p99_ms:>10.2f}{r.errors:>8}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds per run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=harness.BENCH_JOBS)
    args = parser.parse_args()
    started = time.perf_counter()

    env, token = harness.served_plan(args.jobs)
    env = {**env, "DJANGO_SETTINGS_MODULE": "tests.bench.settings"}  # the reference views
    print(
        f"gunicorn 2 workers x 4 threads, PostgreSQL {args.jobs:,} jobs, Redis, "
        f"wrk {args.connections} connections, {args.duration} s per run"
    )
    middleware_cost(env, args, token)
    health_cost(env, args)
    print(f"\nmetrics bench total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
