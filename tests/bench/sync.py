"""Benchmark (a script, not a test): full sync of 100,000 jobs, then a re-sync with 1% changed.

    /work/main/.venv/bin/python -m tests.bench.sync [--jobs 100000] [--profile]

`--profile` runs the last re-sync under cProfile and prints where its time went.

The simulator runs in its own process (as HWA runs on its own machine), the sync in this
one, into PostgreSQL database `resync_bench_sync` (BENCH_SYNC_DATABASE_URL overrides).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
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
        rows = []
        with HwaClient(settings) as client:
            list(client.iter_jobs())  # the simulator renders each job once; not ours to time
            labels = ("full sync", "re-sync (1% changed)", "re-sync (1% changed)")
            for number, label in enumerate(labels, 1):
                if label != "full sync":
                    httpx.post(f"{base}/__simulator__/tick", json={"count": 1}, timeout=30)
                profiler = cProfile.Profile() if args.profile and number == len(labels) else None
                started = time.perf_counter()
                if profiler:
                    run = profiler.runcall(plan_sync, client=client)
                else:
                    run = plan_sync(client=client)
                seconds = time.perf_counter() - started
                if profiler:
                    _print_profile(profiler)
                print(sync_summary(run))
                rows.append((label, seconds, args.jobs / seconds))
    finally:
        sim.terminate()
        sim.wait(timeout=10)
    print(f"{'run':<24}{'seconds':>9}{'jobs/s':>10}")
    for label, seconds, rate in rows:
        print(f"{label:<24}{seconds:>9.2f}{rate:>10,.0f}")


if __name__ == "__main__":
    main()
