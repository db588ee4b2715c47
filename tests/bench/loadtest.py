"""`make loadtest`: the seed's Locust profile against the production server.

1,000 users spawned at 50/s against granian (`python -m resync_site.serve`, 2 workers x 8
threads, production settings) on PostgreSQL with 100,000 demo jobs and Redis, for 60 s
(``--full``: the seed's 5 minutes). Prints p50/p95/p99 per endpoint, failures, and the
server's CPU (all its processes, as a share of one core) and RSS. Targets (issue 12): p95
< 50 ms, 0 failures. Locust runs on the same two cores as the server: its own CPU is
printed too.

Options: ``--users`` (1000), ``--spawn-rate`` (50), ``--duration`` (60), ``--full`` (300 s).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import tempfile
import time
from pathlib import Path

from tests.bench import harness

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
P95_TARGET_MS = 50


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def _rows(stats_csv: Path) -> list[dict[str, str]]:
    with stats_csv.open() as handle:
        return list(csv.DictReader(handle))


def _run_locust(url: str, token: str, args, out: Path) -> tuple[subprocess.CompletedProcess, float]:
    cmd = [
        harness.PY, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
        "--run-time", f"{args.duration}s", "--host", url, "--csv", str(out / "run"),
        "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5",
    ]  # fmt: skip
    env = {**os.environ, "RESYNC_LOADTEST_TOKEN": token}
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    return done, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--spawn-rate", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--full", action="store_true", help="the seed's 5 minutes")
    args = parser.parse_args()
    if args.full:
        args.duration = 300

    env, _viewer = harness.served_plan()
    token = harness.bench_token(env, monitoring=True)  # cache stats need VIEW_MONITORING
    with harness.granian(env) as server, tempfile.TemporaryDirectory() as tmp:
        pids = [server.process.pid, *server.worker_pids()]
        cpu_before, load_before = _cpu_seconds(pids), os.getloadavg()[0]
        done, wall = _run_locust(server.url, token, args, Path(tmp))
        server_cpu = _cpu_seconds(pids) - cpu_before
        rss = server.worker_rss_mb()
        rows = _rows(Path(tmp) / "run_stats.csv")
    if done.returncode not in (0, 1):  # 1: some requests failed (reported below)
        raise SystemExit(f"locust failed ({done.returncode}):\n{done.stderr[-3000:]}")

    print(
        f"\nSeed load profile: {args.users} users, spawn {args.spawn_rate}/s, {args.duration} s, "
        f"granian 2x8, PostgreSQL {harness.BENCH_JOBS:,} jobs, Redis; "
        f"load average {load_before:.2f} at the start"
    )
    print(
        f"{'endpoint':<22}{'requests':>10}{'failures':>10}{'req/s':>8}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}"
    )
    for row in rows:
        print(
            f"{row['Name']:<22}{row['Request Count']:>10}{row['Failure Count']:>10}"
            f"{float(row['Requests/s']):>8.0f}{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}"
            f"{float(row['Max Response Time']):>8.0f}"
        )
    total = rows[-1]
    p95 = float(total["95%"])
    verdict = "ok" if p95 < P95_TARGET_MS and total["Failure Count"] == "0" else "MISSED"
    print(f"target p95 < {P95_TARGET_MS} ms and 0 failures: {verdict}")
    print(
        f"server CPU {server_cpu / wall:.0%} of one core over {wall:.0f} s; "
        f"worker RSS (MB): {', '.join(f'{mb:.0f}' for mb in rss)} (total {sum(rss):.0f})"
    )


if __name__ == "__main__":
    main()
