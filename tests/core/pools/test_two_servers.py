"""Two real server processes on PostgreSQL: a change made through one reaches the other
within about a second, and applying presets under load fails no request."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest
from django.conf import settings
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from apps.core.pools.defaults import PRESETS
from tests.bench.harness import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs DATABASE_URL on PostgreSQL: the pools under test are psycopg pools",
    ),
]

ROOT = Path(__file__).resolve().parents[3]
VISIBLE_WITHIN_S = 1.0
# One request to ask: the watcher checks once a second, on a request.
REQUEST_ALLOWANCE_S = 0.5


def _env() -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DATABASE_URL=f"{url}/{db['NAME']}",
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        DJANGO_DEBUG="0",
        LOG_LEVEL="warning",
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    return env


def _tail(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-2000:]


@pytest.fixture
def servers(tmp_path) -> Iterator[list[str]]:
    procs, urls = [], []
    # A file, never an unread pipe: runserver logs a line per request to stderr, and once a
    # pipe's 64 KiB buffer is full every thread that logs blocks, so the server stops
    # answering (about a thousand requests in; this test's load gets there).
    logs = [(tmp_path / f"server-{i}.log").open("w+b") for i in range(2)]
    try:
        for log in logs:
            port = free_port()
            cmd = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
            procs.append(
                subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=log)
            )
            urls.append(f"http://127.0.0.1:{port}")
        for proc, url, log in zip(procs, urls, logs, strict=True):
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, _tail(log)
                try:
                    if httpx.get(f"{url}/api/v1/health/", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
        for log in logs:
            log.close()


def _stats(client: httpx.Client, url: str) -> dict:
    response = client.get(f"{url}/api/v1/pools/stats/")
    assert response.status_code == 200, response.text
    return response.json()["pools"]


def test_a_change_through_one_server_reaches_the_other(servers, admin_user):
    a, b = servers
    headers = {"Authorization": f"Bearer {AccessToken.for_user(admin_user)}"}
    with httpx.Client(headers=headers, timeout=30) as client:
        initial = _stats(client, b)["database"]["config"]["max_size"]
        target = 13 if initial == 12 else 12
        body = client.get(f"{a}/api/v1/config/pools/database/").json()
        body = {k: v for k, v in body.items() if k not in ("name", "updated_at")}
        put = client.put(f"{a}/api/v1/config/pools/database/", json={**body, "max_size": target})
        assert put.status_code == 200, put.text
        changed_at = time.monotonic()
        while _stats(client, b)["database"]["config"]["max_size"] != target:
            assert time.monotonic() - changed_at < VISIBLE_WITHIN_S + REQUEST_ALLOWANCE_S
            time.sleep(0.05)
        print(f"visible in the other process after {time.monotonic() - changed_at:.3f} s")


def test_applying_presets_under_load_fails_no_request(servers, admin_user):
    headers = {"Authorization": f"Bearer {AccessToken.for_user(admin_user)}"}
    stop = threading.Event()
    outcomes: list[int | str] = []
    lock = threading.Lock()

    def load(url: str) -> None:
        with httpx.Client(headers=headers, timeout=30) as client:
            while not stop.is_set():
                try:
                    status: int | str = client.get(f"{url}/api/v1/jobs/?page_size=5").status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with lock:
                    outcomes.append(status)

    with httpx.Client(headers=headers, timeout=30) as admin:
        before = [_stats(admin, url)["database"]["acquisitions"] for url in servers]
        threads = [threading.Thread(target=load, args=(url,)) for url in servers * 4]
        for thread in threads:
            thread.start()
        try:
            for preset in ("recommended", "current", "recommended"):
                for name in ("database", "redis", "hwa_http"):
                    response = admin.put(
                        f"{servers[0]}/api/v1/config/pools/{name}/",
                        json={**PRESETS[preset], "max_waiting": 0},
                    )
                    assert response.status_code == 200, response.text
                time.sleep(1.2)  # let both processes apply it while the load runs
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
        after = [_stats(admin, url)["database"] for url in servers]
    failures = [outcome for outcome in outcomes if outcome != 200]
    assert len(outcomes) > 50
    assert failures == []
    assert all(s["config"]["max_size"] == 30 for s in after)
    for b, s in zip(before, after, strict=True):
        assert s["acquisitions"] > b  # the stats moved with the load
    print(f"{len(outcomes)} requests during 3 preset changes, {len(failures)} failed")
