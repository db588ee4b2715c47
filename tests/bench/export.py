"""What a whole-plan export costs (``python -m tests.bench.export``).

A production-style server (gunicorn, one worker so its memory is the one measured, DEBUG
off, PostgreSQL with a demo plan of ``--jobs`` jobs, Redis) streams
``/api/v1/jobs/export/`` in each format to one client over loopback. For each: rows per
second and MB per second as the client receives them, time to the first byte, and the
worker's RSS growth during the export (peak, sampled every 20 ms, minus the RSS after a
warm-up export of a few rows). Target: RSS growth < 50 MB for 1,000,000 rows, i.e. memory
that does not grow with the plan.

The plan is loaded once with ``load_demo_plan`` (bulk COPY on PostgreSQL) and kept between
runs while it has ``--jobs`` jobs. Options: ``--jobs`` (1,000,000), ``--formats`` (csv,ndjson),
``--port`` (a free one).
Databases: ``BENCH_EXPORT_DATABASE_URL`` (resync_bench_export: its own, so the other
benchmarks' 100,000-job plan in resync_bench is not replaced), ``BENCH_REDIS_URL`` (Redis DB 14).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from dataclasses import dataclass

import httpx

from tests.bench import harness

EXPORT = "/api/v1/jobs/export/"
JOBS = 1_000_000
TARGET_RSS_MB = 50
SAMPLE_S = 0.02
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/resync_bench_export"


@dataclass
class ExportRun:
    """One export as the client saw it, and the server worker's memory meanwhile."""

    fmt: str
    rows: int
    megabytes: float
    seconds: float
    first_byte_s: float
    rss_before_mb: float
    rss_peak_mb: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds

    @property
    def rss_growth_mb(self) -> float:
        return self.rss_peak_mb - self.rss_before_mb


class RssPeak:
    """Samples a process's RSS in a thread; keeps the highest seen."""

    def __init__(self, server: harness.Server) -> None:
        self.server = server
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _worker_rss_mb(self.server))
            self._stop.wait(SAMPLE_S)


def _worker_rss_mb(server: harness.Server) -> float:
    sizes = server.worker_rss_mb()
    return max(sizes) if sizes else 0.0


def _export(server: harness.Server, token: str, fmt: str, **params: str) -> tuple[int, int, float]:
    """(lines, bytes, seconds to the first byte) of one export, read as it streams."""
    headers = {"Authorization": f"Bearer {token}"}
    lines = size = 0
    first_byte = None
    started = time.perf_counter()
    url = server.url + EXPORT
    with httpx.stream(
        "GET", url, params={"format": fmt, **params}, headers=headers, timeout=600
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            if first_byte is None:
                first_byte = time.perf_counter() - started
            lines += chunk.count(b"\n")
            size += len(chunk)
    return lines, size, first_byte or 0.0


def measure(server: harness.Server, token: str, fmt: str, jobs: int) -> ExportRun:
    _export(server, token, fmt, q="J001")  # warm-up: imports, pools, caches of a small export
    before = _worker_rss_mb(server)
    with RssPeak(server) as peak:
        started = time.perf_counter()
        lines, size, first_byte = _export(server, token, fmt)
        seconds = time.perf_counter() - started
    rows = lines - 1 if fmt == "csv" else lines  # the CSV header line
    if rows != jobs:
        raise SystemExit(f"{fmt}: exported {rows:,} rows, the plan has {jobs:,}")
    return ExportRun(fmt, rows, size / 2**20, seconds, first_byte, before, peak.peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=JOBS, help="demo plan size")
    parser.add_argument("--formats", default="csv,ndjson", help="comma-separated")
    parser.add_argument("--port", type=int, default=None, help="server port (default: free)")
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_EXPORT_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    harness.ensure_database(database_url)
    # Exports have their own rate (10/min by default): off, as the other rates are here.
    env = harness.bench_env(database_url, REDIS_URL=redis_url, RESYNC_THROTTLE_EXPORT="off")
    harness.prepare_plan(env, args.jobs)
    token = harness.bench_token(env)

    runs = []
    with harness.gunicorn(env, workers=1, threads=2, port=args.port) as server:
        for fmt in args.formats.split(","):
            runs.append(measure(server, token, fmt, args.jobs))

    print(f"\nexport of {args.jobs:,} jobs, one client, gunicorn 1 worker x 2 threads")
    header = f"{'format':<8}{'rows/s':>10}{'MB/s':>8}{'MB':>8}{'s':>8}{'1st byte s':>12}"
    print(f"{header}{'RSS before MB':>15}{'RSS growth MB':>15}")
    for r in runs:
        print(
            f"{r.fmt:<8}{r.rows_per_s:>10,.0f}{r.megabytes / r.seconds:>8.1f}{r.megabytes:>8.0f}"
            f"{r.seconds:>8.1f}{r.first_byte_s:>12.2f}{r.rss_before_mb:>15.0f}"
            f"{r.rss_growth_mb:>15.1f}"
        )
    worst = max(r.rss_growth_mb for r in runs)
    verdict = "ok" if worst < TARGET_RSS_MB else "OVER TARGET"
    print(f"largest RSS growth {worst:.1f} MB (target < {TARGET_RSS_MB} MB: {verdict})")


if __name__ == "__main__":
    main()
