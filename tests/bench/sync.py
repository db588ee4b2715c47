"""Benchmark (a script, not a test): full sync of 100,000 jobs, then re-syncs with 1% changed.

    /work/main/.venv/bin/python -m tests.bench.sync [--jobs 100000] [--profile]

The full sync and the re-sync after a restart start with nothing remembered (a new client,
nothing parsed before), as a new process would; the other re-syncs reuse what the runs
before them parsed (apps.core.hwa.parsing.RecordMemo). Besides wall time, each row shows
the CPU time of this process (the sync's own work, less disturbed by other load than wall
time) and the load average: figures taken while anything else runs are worth little
(about 3x too slow on this 2-core machine), so benchmark alone. `--profile` runs the last
re-sync under cProfile and prints where its time went.

The simulator runs in its own process (as HWA runs on its own machine), the sync in this
one, into PostgreSQL database `resync_bench_sync` (BENCH_SYNC_DATABASE_URL overrides).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import pstats
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DATABASE_URL = os.environ.get(
    "BENCH_SYNC_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/resync_bench_sync"
)
PASSWORD = "bench"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _warm(settings) -> None:
    """List the jobs once, in a child process: the simulator renders each job on its first
    listing, which is not ours to time, and the records that listing parsed are not the
    sync's to hold (kept here, they were ~60 MB of the reported peak RSS)."""
    from django.db import connections

    from apps.core.hwa.client import HwaClient

    def listing() -> None:
        with HwaClient(settings) as warm:
            for _ in warm.iter_jobs():
                pass

    connections.close_all()  # a forked child must not share this process's connection
    child = multiprocessing.get_context("fork").Process(target=listing)
    child.start()
    child.join()


def _print_profile(profiler: cProfile.Profile) -> None:
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(25)
        print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the last re-sync")
    args = parser.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
    from tests.bench.harness import ensure_database

    ensure_database(DATABASE_URL)
    import django

    django.setup()
    import httpx
    from django.core.management import call_command

    from apps.core.hwa.client import HwaClient, HwaClientSettings
    from apps.core.services.mirror import mirror_write
    from apps.core.services.sync import plan_sync, sync_summary

    call_command("migrate", verbosity=0)
    with mirror_write() as mirror:
        mirror.clear()
    port = _free_port()
    sim = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "run_hwa_simulator",
            "--port",
            str(port),
            "--jobs",
            str(args.jobs),
            "--tick-seconds",
            "0",
            "--mid-day",
            "--password",
            PASSWORD,
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                httpx.get(f"{base}/__simulator__/stats", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        settings = HwaClientSettings(
            base_url=f"{base}/twsd", username="resync", password=PASSWORD, page_size=5000
        )
        _warm(settings)
        rows = []
        labels = (
            "full sync",
            "re-sync (1% changed)",
            "re-sync (1% changed)",
            "re-sync after a restart",
            "re-sync (1% changed)",
        )
        client = HwaClient(settings)
        try:
            for number, label in enumerate(labels, 1):
                if label != "full sync":
                    httpx.post(f"{base}/__simulator__/tick", json={"count": 1}, timeout=30)
                if "restart" in label:  # what a new process has: nothing parsed
                    client.close()
                    client = HwaClient(settings)
                profiler = cProfile.Profile() if args.profile and number == len(labels) else None
                started, cpu = time.perf_counter(), time.process_time()
                if profiler:
                    run = profiler.runcall(plan_sync, client=client)
                else:
                    run = plan_sync(client=client)
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                if profiler:
                    _print_profile(profiler)
                print(sync_summary(run))
                rows.append((label, seconds, cpu, args.jobs / seconds, os.getloadavg()[0]))
        finally:
            client.close()
    finally:
        sim.terminate()
        try:
            sim.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a loaded machine: do not lose the figures
            sim.kill()
            sim.wait()
    print(f"{'run':<26}{'seconds':>9}{'cpu s':>8}{'jobs/s':>10}{'load':>7}")
    for label, seconds, cpu, rate, load in rows:
        print(f"{label:<26}{seconds:>9.2f}{cpu:>8.2f}{rate:>10,.0f}{load:>7.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the syncing process: {peak:.0f} MB ({args.jobs:,} jobs)")


if __name__ == "__main__":
    main()
