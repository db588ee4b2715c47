"""What the security-event middleware costs (`python -m tests.bench.security_events`).

gunicorn (2 workers x 4 threads, DEBUG off) on PostgreSQL with the demo plan and Redis, wrk
and an HTTP client over loopback. Two measurements:

1. overhead: a cached `jobs/status/` read (JWT, wrk `--connections`), on the same server
   with the middleware left out (RESYNC_SECURITY_EVENTS=0) and in, `--rounds` times each,
   alternating so that a machine getting busier penalises neither. Target: the middleware
   adds < 5 % (req/s and p50, summed over the rounds).
2. flood: `--flood-requests` anonymous hostile requests (SQL injection, XSS, path traversal,
   a NUL, a scanner's user agent; 401, 404 and 400 answers) from one address, then the rows
   they left once the recorder has written them. Target: at most a few hundred rows (one per
   address, kind and minute: 7 kinds here) and every request counted.

The per-client rate limits are off (harness.bench_env): the clients are load generators. The
load average is printed before and after: figures from a busy machine say little.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.bench import harness

PATH = "/api/v1/jobs/status/"
TARGET_OVERHEAD = 0.05
TARGET_ROWS = 300
FLOOD_THREADS = 8
# One address's hostile mix: (path, query); every request also names sqlmap as its agent.
FLOOD = (
    ("/api/v1/jobs/", {"q": "' OR 1=1--"}),  # 401: anonymous
    ("/api/v1/jobs/", {"q": "<script>alert(1)</script>"}),
    ("/api/v1/..%2f..%2fetc%2fpasswd", {}),  # 404
    ("/api/v1/health/", {"name": "x%00.txt"}),  # 400: health takes no parameters
)
FLOOD_KINDS = 7  # sql_injection, xss, path_traversal, null_byte, scanner, http_error, burst
COUNT_ROWS = (
    "import json; from django.db.models import Sum;"
    "from apps.monitoring.models import SecurityEvent as E;"
    "rows = E.objects.order_by();"
    "print(json.dumps({'rows': rows.count(), 'minutes': rows.values('minute').distinct().count(),"
    " 'counts': {k: n for k, n in rows.values_list('kind').annotate(n=Sum('count'))}}))"
)


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def overhead(env: dict[str, str], token: str, args: argparse.Namespace) -> list[tuple]:
    """(label, wrk result) per round and setting, alternating off and on."""
    rows = []
    for round_ in range(1, args.rounds + 1):
        for label, switch in (("off", "0"), ("on", "1")):
            with harness.gunicorn({**env, "RESYNC_SECURITY_EVENTS": switch}) as server:
                url = server.url + PATH
                harness.wrk(url, connections=4, duration=2, token=token)  # warm-up
                result = harness.wrk(
                    url, connections=args.connections, duration=args.duration, token=token
                )
                rows.append((f"{label} (round {round_})", label, result))
    return rows


def _flood_part(base_url: str, count: int, offset: int) -> dict[int, int]:
    statuses: dict[int, int] = {}
    headers = {"User-Agent": "sqlmap/1.7.2#stable (https://sqlmap.org)"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        for n in range(offset, offset + count):
            path, params = FLOOD[n % len(FLOOD)]
            status = client.get(path, params=params).status_code
            statuses[status] = statuses.get(status, 0) + 1
    return statuses


def flood(env: dict[str, str], args: argparse.Namespace) -> tuple[dict, dict, float]:
    """Send the hostile flood; returns (statuses, what the table holds, requests per second)."""
    harness.shell(env, "from apps.monitoring.models import SecurityEvent; "
                  "SecurityEvent.objects.all().delete()")  # fmt: skip
    share = args.flood_requests // FLOOD_THREADS
    with harness.gunicorn(env) as server:
        started = time.perf_counter()
        with ThreadPoolExecutor(FLOOD_THREADS) as pool:
            parts = list(
                pool.map(lambda i: _flood_part(server.url, share, i * share), range(FLOOD_THREADS))
            )
        elapsed = time.perf_counter() - started
        time.sleep(3)  # the recorders write every second; stopping the server writes the rest
    statuses: dict[int, int] = {}
    for part in parts:
        for status, count in part.items():
            statuses[status] = statuses.get(status, 0) + count
    table = json.loads(harness.shell(env, COUNT_ROWS))
    return statuses, table, share * FLOOD_THREADS / elapsed


def report_overhead(rows: list[tuple], args: argparse.Namespace) -> None:
    print(
        f"\nSecurity-event middleware on a cached {PATH}: gunicorn 2 workers x 4 threads, "
        f"PostgreSQL {args.jobs:,} jobs, Redis, wrk {args.connections} connections, "
        f"{args.duration} s per run"
    )
    print(f"{'run':<16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for label, _, r in rows:
        print(
            f"{label:<16}{r.requests_per_s:>10.0f}{r.p50_ms:>10.2f}{r.p99_ms:>10.2f}{r.errors:>8}"
        )
    totals = {}
    for _, setting, r in rows:
        rps, p50 = totals.get(setting, (0.0, 0.0))
        totals[setting] = (rps + r.requests_per_s, p50 + r.p50_ms)
    throughput_cost = 1 - totals["on"][0] / totals["off"][0]
    latency_cost = totals["on"][1] / totals["off"][1] - 1
    worst = max(throughput_cost, latency_cost)
    verdict = "ok" if worst < TARGET_OVERHEAD else "MISSED"
    print(
        f"middleware cost: {throughput_cost:+.1%} req/s, {latency_cost:+.1%} p50 "
        f"(target < {TARGET_OVERHEAD:.0%}): {verdict}"
    )


def report_flood(statuses: dict, table: dict, rate: float, requests: int) -> None:
    print(
        f"\nHostile flood: {requests:,} anonymous requests from one address "
        f"({FLOOD_THREADS} threads, {rate:.0f} req/s), answers {dict(sorted(statuses.items()))}"
    )
    print(f"rows: {table['rows']} over {table['minutes']} minute(s); counts {table['counts']}")
    bound = FLOOD_KINDS * max(1, table["minutes"])
    counted = table["counts"].get("scanner", 0)
    verdict = "ok" if table["rows"] <= min(bound, TARGET_ROWS) and counted == requests else "MISSED"
    print(
        f"rows <= {FLOOD_KINDS} kinds x minutes = {bound} (and <= {TARGET_ROWS}); "
        f"every request counted ({counted:,} of {requests:,}): {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=15, help="wrk seconds per run")
    parser.add_argument("--rounds", type=int, default=2, help="off/on pairs")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--flood-requests", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=harness.BENCH_JOBS)
    parser.add_argument("--skip-overhead", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    print(f"load average before: {load_average()}", flush=True)
    env, token = harness.served_plan(args.jobs)

    if not args.skip_overhead:
        report_overhead(overhead(env, token, args), args)
    statuses, table, rate = flood(env, args)
    report_flood(statuses, table, rate, args.flood_requests // FLOOD_THREADS * FLOOD_THREADS)
    print(f"load average after: {load_average()}; total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
