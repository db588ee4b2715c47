"""Memory (issue 12): ``python -m tests.bench.memory``, part of `make bench`.

Target (the seed's bound): 2 served workers + the sync loop < 256 MB RSS in total with
100,000 jobs. Everything as deployed, each in its own process: the bundled HWA simulator
(`run_hwa_simulator`, 100,000 jobs over HTTP), the production server (`python -m
resync_site.serve`: granian, 2 workers, Django preloaded before the fork), the sync loop
(`manage.py sync_plan --loop`), PostgreSQL and Redis. The loop runs a full sync into an
empty mirror, then `--resyncs` re-syncs with 1 % of the jobs changed (the simulator's tick,
sent right after each run's summary line, so each run sees one tick) and one with nothing
changed, after which its interval is made long, so it is measured resting between runs
(as it spends most of its time; its peak RSS covers the runs); meanwhile and after,
wrk reads cached `jobs/status/` (JWT), a filtered `jobs/` list and `health/` through the
server. Then, per process: RSS, PSS (/proc/<pid>/smaps_rollup: a page shared by n
processes counts 1/n in each, so the workers' shared preloaded pages count once in the
total) and peak RSS (VmHWM); the totals; the load average.

PostgreSQL database `resync_bench_memory` (BENCH_MEMORY_DATABASE_URL overrides), Redis DB
14 (BENCH_REDIS_URL). Options: ``--jobs`` (100,000), ``--resyncs`` (3), ``--duration``
(wrk seconds per endpoint, 3).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.bench import harness

DATABASE_URL = os.environ.get(
    "BENCH_MEMORY_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/resync_bench_memory"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PASSWORD = "bench"
TARGET_MB = 256
FILTERED = "/api/v1/jobs/?status=Error&ordering=-start&page_size=50"
READS = [
    ("cached jobs/status/ (JWT)", "/api/v1/jobs/status/", True),
    ("cached filtered jobs/ (JWT)", FILTERED, True),
    ("health/", "/api/v1/health/", False),
]
# The loop's interval once the counted runs are done: it rests between runs when measured.
RESTING_INTERVAL = 3600
# The HWA connection the sync loop uses: the simulator's, a sync every `interval` seconds.
CONNECT = """
from apps.core.models import HwaConnection
from apps.core.services.hwa import hwa_connection_save
from apps.core.services.mirror import mirror_write
with mirror_write() as mirror:
    mirror.clear()
row = HwaConnection.objects.filter(name="default").first() or HwaConnection(name="default")
row.base_url, row.username, row.flavour = {url!r}, "resync", "v1"
row.enabled, row.sync_interval, row.page_size = True, {interval}, {page_size}
hwa_connection_save(connection=row, actor=None, source="command", password={password!r})
"""
REST = """
from apps.core.models import HwaConnection
from apps.core.services.hwa import hwa_connection_save
row = HwaConnection.objects.get(name="default")
row.sync_interval = {interval}
hwa_connection_save(connection=row, actor=None, source="command")
"""


def memory_mb(pid: int) -> tuple[float, float, float]:
    """(RSS, PSS, peak RSS) of a process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    peak = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    pss = int(re.search(r"^Pss:\s+(\d+)", rollup, re.M).group(1))
    return rss / 1024, pss / 1024, peak / 1024


def _wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _next_run(loop: subprocess.Popen, *, skip: bool = False) -> str:
    """The loop's next summary line (a successful run; or, with `skip`, a skipped one)."""
    for line in loop.stdout:
        if line.startswith("Sync "):
            print(f"  sync loop: {line.strip()}", flush=True)
            if not line.startswith(("Sync ok", "Sync skipped") if skip else "Sync ok"):
                raise RuntimeError(f"the sync loop did not sync: {line}")
            return line
    raise RuntimeError("the sync loop exited")


def _sync_runs(loop: subprocess.Popen, env: dict[str, str], sim_url: str, resyncs: int) -> None:
    """A full sync and `resyncs` re-syncs, a tick after each; then the loop is made to rest
    (its interval RESTING_INTERVAL), so it is measured between runs, not in one."""
    _next_run(loop)
    for _ in range(resyncs):
        httpx.post(f"{sim_url}/__simulator__/tick", json={"count": 1}, timeout=30)
        _next_run(loop)
    harness.shell(env, REST.format(interval=RESTING_INTERVAL))
    # The run that was due: done (nothing changed), or skipped when the loop has read the
    # new interval already (the last run finished less than that ago). Either way, the
    # wait after it is the new interval.
    _next_run(loop, skip=True)


def _reads(server: harness.Server, token: str, duration: int) -> None:
    for label, path, authenticated in READS:
        result = harness.wrk(
            server.url + path,
            connections=16,
            duration=duration,
            token=token if authenticated else None,
        )
        print(f"  {label:<30}{result.requests_per_s:>8.0f} req/s, {result.errors} errors")


def _cache_sizes(server: harness.Server, token: str) -> None:
    """What the in-process cache tier (apps/cache) holds, as the worker that answers says."""
    seen = {}
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        for _ in range(8):  # the workers take turns at random: ask until both answered
            body = client.get(f"{server.url}/api/v1/cache/stats/").raise_for_status().json()
            l1 = body["tiers"]["l1"]
            seen[(l1["total"]["entries"], l1["total"]["bytes"])] = l1["config"]
    for (entries, size), config in sorted(seen.items()):
        bound = config["max_memory_bytes"] / 2**20
        print(f"  in-process cache (a worker's): {entries} entries, {size / 2**20:.2f} MB "
              f"(bound {bound:.0f} MB)")  # fmt: skip


def _row(name: str, figures) -> None:
    rss, pss, peak = figures
    print(f"{name:<24}{rss:>9.1f}{pss:>9.1f}{peak:>13.1f}")


def _report(processes: list[tuple[str, int]]) -> None:
    print(f"\n{'process':<24}{'RSS MB':>9}{'PSS MB':>9}{'peak RSS MB':>13}")
    totals = [0.0, 0.0, 0.0]
    for name, pid in processes:
        figures = memory_mb(pid)
        totals = [t + f for t, f in zip(totals, figures, strict=True)]
        _row(name, figures)
    _row("total", totals)
    rss, pss, peak = totals
    verdict = "ok" if rss < TARGET_MB else "MISSED"
    print(f"2 workers + sync loop: {rss:.0f} MB RSS, {pss:.0f} MB PSS, {peak:.0f} MB peak RSS "
          f"(target < {TARGET_MB} MB RSS: {verdict})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=harness.BENCH_JOBS)
    parser.add_argument("--resyncs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=3)
    args = parser.parse_args()

    harness.ensure_wrk()
    harness.ensure_database(DATABASE_URL)
    env = harness.bench_env(DATABASE_URL, REDIS_URL=REDIS_URL)
    harness.manage(env, "migrate", "--noinput", "-v0")
    harness.manage(env, "collectstatic", "--noinput", "-v0")
    print(f"load average {os.getloadavg()[0]:.2f} before the run (benchmark alone)")
    port = harness.free_port()
    sim_url = f"http://127.0.0.1:{port}"
    simulator = subprocess.Popen(
        [harness.PY, "manage.py", "run_hwa_simulator", "--port", str(port), "--jobs",
         str(args.jobs), "--tick-seconds", "0", "--mid-day", "--password", PASSWORD],
        cwd=harness.ROOT, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    loop = None
    try:
        _wait_for(f"{sim_url}/__simulator__/stats")
        # An interval long enough for a full sync's summary and tick to land between runs.
        connect = CONNECT.format(
            url=f"{sim_url}/twsd", interval=3, page_size=5000, password=PASSWORD
        )
        harness.shell(env, connect)
        token = harness.bench_token(env, monitoring=True)  # reads the cache's statistics too
        with harness.granian(env, workers=2, threads=8) as server:
            loop = subprocess.Popen(
                [harness.PY, "manage.py", "sync_plan", "--loop"],
                cwd=harness.ROOT, env=env, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            started = time.perf_counter()
            _sync_runs(loop, env, sim_url, args.resyncs)
            print(f"  {args.resyncs + 2} runs in {time.perf_counter() - started:.1f} s")
            _reads(server, token, args.duration)
            _cache_sizes(server, token)
            time.sleep(1)  # the loop's heap trimmed, the workers settled
            processes = [("sync loop", loop.pid)]
            processes += [(f"worker {n}", pid) for n, pid in enumerate(server.worker_pids(), 1)]
            _report(processes)
            master = memory_mb(server.process.pid)
            print(f"(not counted: granian's main process {master[0]:.0f} MB RSS, "
                  f"{master[1]:.0f} MB PSS)")  # fmt: skip
            _stop(loop)
    finally:
        if loop is not None and loop.poll() is None:
            _stop(loop)
        _stop(simulator)
    print(f"load average {os.getloadavg()[0]:.2f} after the run")


if __name__ == "__main__":
    sys.exit(main())
