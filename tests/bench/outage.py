"""PostgreSQL outage under load: gunicorn (2 workers x 4 threads, production settings) on a
throwaway cluster, a small loop of clients over loopback, PostgreSQL stopped for a few
seconds then started again. Prints time to the first 503, latencies during the outage,
health's latency and the time to the first success after the restart.

    .venv/bin/python -m tests.bench.outage [--outage 6]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter

import httpx

from tests.bench import harness
from tests.outages import (
    CACHED,
    HEALTH,
    Load,
    Outcome,
    ThrowawayPostgres,
    first_success_after,
    postgres_unavailable_reason,
    prepare,
    server_env,
    watch_health,
)


def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    return f"p50 {statistics.median(values) * 1000:.1f} ms, max {max(values) * 1000:.1f} ms"


def _row(label: str, outcomes: list[Outcome]) -> str:
    statuses = Counter(str(o.status) for o in outcomes)
    counts = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
    return f"{label:<34} {counts:<28} {_ms([o.seconds for o in outcomes])}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=6.0, help="seconds PostgreSQL is down")
    args = parser.parse_args()
    if reason := postgres_unavailable_reason():
        print(reason)
        return 1
    pg = ThrowawayPostgres()
    try:
        pg.start()
        env = server_env(pg.url)
        viewer, staff = prepare(env)
        with harness.gunicorn(env, workers=2, threads=4) as server:
            for _ in range(8):  # both workers: warm the cache and the JWT user rows
                for token, path in [(viewer, p) for p in CACHED] + [(staff, HEALTH)]:
                    headers = {"Authorization": f"Bearer {token}"}
                    httpx.get(server.url + path, headers=headers, timeout=30)
            with Load(server.url, viewer) as load:
                time.sleep(2.0)
                stopping = time.monotonic()
                pg.stop()
                stopped = time.monotonic()
                health = watch_health(server.url, staff, stopped + args.outage)
                pg.start()
                restarted = time.monotonic()
                first = first_success_after(server.url, viewer, restarted, 30)
                time.sleep(1.0)
    finally:
        pg.destroy()

    uncached = load.between(stopping, restarted, "uncached")
    first_503 = min((o.ended for o in uncached if o.status == 503), default=None)
    print(f"\nPostgreSQL outage: gunicorn 2 workers x 4 threads, {args.outage:.0f} s down")
    print(_row("before the stop", load.between(0, stopping)))
    print(_row("outage: cached plan reads", load.between(stopping, restarted, "cached")))
    print(_row("outage: reads needing PostgreSQL", uncached))
    print(_row("outage: health/ (staff)", health))
    print(_row("after the restart", load.between(restarted, float("inf"))))
    print(f"pg_ctl stop (fast) took {stopped - stopping:.2f} s")
    if first_503 is not None:
        print(f"first 503: {first_503 - stopping:.3f} s after the stop began")
    if first is not None:
        print(f"first success: {first.ended - restarted:.3f} s after pg_ctl start returned")
    errors = [o for o in load.outcomes + health if o.status == 500 or isinstance(o.status, str)]
    print(f"500s or client errors: {len(errors)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
