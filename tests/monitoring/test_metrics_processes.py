"""Metrics with several worker processes: gunicorn -w 2 with its config file, as deployed.

Each worker counts in its own files under PROMETHEUS_MULTIPROC_DIR; whichever worker answers
a scrape must report every request the server answered. The database is an unmigrated
SQLite file: what is under test is the processes, and /metrics, health/live/ and the
allow-list need no table.
"""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.bench import harness

pytestmark = pytest.mark.slow
LIVE = "/api/v1/health/live/"
REQUESTS = 60


def _live_count(url: str) -> float:
    """What one scrape says about health/live/ 2xx answers (whichever worker answers it)."""
    response = httpx.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "resync_http_requests_total"
                and labels.get("route") == LIVE
                and labels.get("status") == "2xx"
            ):
                return sample.value
    return 0.0


def _pids(directory: Path, prefix: str) -> set[int]:
    return {int(path.stem.rsplit("_", 1)[1]) for path in directory.glob(f"{prefix}_*.db")}


def _in_parallel(call, count: int) -> list:
    # New connections from 4 clients at once: with one thread per worker, both workers serve.
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_every_scrape_counts_every_request_whichever_worker_answers(tmp_path):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    left_over = metrics_dir / "counter_999999.db"
    left_over.write_bytes(b"a previous run's counts")
    env = harness.bench_env(
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        RESYNC_METRICS_ALLOWED_IPS="127.0.0.1",
        LOG_LEVEL="error",
    )
    env.pop("REDIS_URL", None)

    with harness.gunicorn(env, workers=2, threads=1, ready_path=LIVE) as server:
        assert not left_over.exists()  # emptied when the server started
        before = _live_count(server.url)  # the start-up wait polled health/live/ too
        statuses = _in_parallel(lambda: httpx.get(server.url + LIVE).status_code, REQUESTS)
        assert statuses == [200] * REQUESTS

        scrapes = _in_parallel(lambda: _live_count(server.url), 12)

        workers = set(server.worker_pids())
        assert _pids(metrics_dir, "counter") >= workers  # both workers counted requests
        assert scrapes == [before + REQUESTS] * 12

        # A worker killed: its counts stay, its live gauges go, its successor adds up too.
        _wait_for(
            lambda: _pids(metrics_dir, "gauge_livesum") >= workers,
            timeout=30,  # each worker publishes at a scrape it answers, and every 5 s
            what="both workers to publish their live gauges",
        )
        killed = min(workers)
        os.kill(killed, signal.SIGKILL)
        _wait_for(
            lambda: len(set(server.worker_pids()) - workers) == 1,
            timeout=60,
            what="gunicorn to replace the killed worker",
        )
        _wait_for(
            lambda: killed not in _pids(metrics_dir, "gauge_livesum"),
            timeout=10,
            what="the killed worker's live gauges to be dropped",
        )

        after = _in_parallel(lambda: _live_count(server.url), 8)

    assert killed in _pids(metrics_dir, "counter")
    assert after == [before + REQUESTS] * 8


def test_without_a_directory_the_server_makes_its_own_and_removes_it(tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = harness.bench_env(
        f"sqlite:///{tmp_path / 'db.sqlite3'}", LOG_LEVEL="error", TMPDIR=str(temporary)
    )
    env.pop("REDIS_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)

    with harness.gunicorn(env, workers=2, threads=1, ready_path=LIVE):
        made = list(temporary.glob("resync-metrics-*"))
        assert len(made) == 1  # one directory for the server's workers
        assert _pids(made[0], "counter")  # where they count

    assert not made[0].exists()
