"""An origin added or disabled through one server process is applied by another within a
second: two real `runserver` processes sharing only the database (and Redis when set).

On PostgreSQL the servers use the test database (committed transactions, as in
tests/core/pools/test_two_servers.py); on the embedded default they get an SQLite file of
their own, migrated for the test (pytest's SQLite database is in memory).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

from tests.bench.harness import free_port
from tests.processes import wait_until_serving

# Committed transactions: on PostgreSQL the servers read what the test process set up.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
# The bound. Only the start of each read is timed (any read that starts this long
# after the change must see it), never how long a read takes, so a loaded machine cannot
# make this flaky.
VISIBLE_WITHIN_S = 1.0
ORIGIN = "https://console.example.com"
ADMIN, ADMIN_PASSWORD = "cors-admin", "a-cors-admin-password-51e"


def _manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def server_env(tmp_path) -> dict[str, str]:
    unset = ("DJANGO_", "DATABASE_URL", "REDIS_URL", "DB_", "RESYNC_", "CORS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    env.update(
        RESYNC_LOCAL_FILE=str(tmp_path / "local.json"),  # secrets shared by both servers
        DJANGO_DEBUG="0",
        LOG_LEVEL="warning",
        RESYNC_THROTTLE_ANON="off",  # the reads below come quickly from one address
    )
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        env["DATABASE_URL"] = f"postgres://{db['USER'] or 'postgres'}@{host}/{db['NAME']}"
        if settings.REDIS_URL:
            env["REDIS_URL"] = settings.REDIS_URL
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'resync.sqlite3'}"
        _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(
        {**env, "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD},
        "createsuperuser",
        "--noinput",
        "--username",
        ADMIN,
        "--email",
        "cors-admin@example.com",
    )
    return env


@pytest.fixture
def servers(server_env, tmp_path) -> Iterator[list[str]]:
    procs, urls = [], []
    try:
        for i in range(2):
            port, log = free_port(), tmp_path / f"server-{i}.log"
            with log.open("wb") as out:  # a file, never an unread pipe (see test_two_servers)
                procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "manage.py",
                            "runserver",
                            "--noreload",
                            f"127.0.0.1:{port}",
                        ],
                        cwd=ROOT,
                        env=server_env,
                        stdout=subprocess.DEVNULL,
                        stderr=out,
                    )
                )
            urls.append(f"http://127.0.0.1:{port}")
            wait_until_serving(procs[-1], urls[-1], log)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)


def _allowed(url: str) -> bool:
    """A browser's preflight from ORIGIN: does the server allow it?"""
    response = httpx.options(
        f"{url}/api/v1/jobs/",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.headers.get("access-control-allow-origin") == ORIGIN


def _read_until(done: Callable[[], bool], *, changed_at: float) -> float:
    while True:
        started = time.monotonic()
        if done():
            return time.monotonic() - changed_at
        late = started - changed_at
        assert late < VISIBLE_WITHIN_S, f"a read {late:.2f} s after the change saw the old list"
        time.sleep(0.05)


def test_an_origin_changed_through_one_server_is_applied_by_the_other_within_a_second(servers):
    a, b = servers
    token = httpx.post(
        f"{a}/api/v1/auth/token/", json={"username": ADMIN, "password": ADMIN_PASSWORD}
    )
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access']}"}
    assert not _allowed(b)

    added = httpx.post(f"{a}/api/v1/config/cors-origins/", json={"origin": ORIGIN}, headers=headers)
    assert added.status_code == 201, added.text
    seen = _read_until(lambda: _allowed(b), changed_at=time.monotonic())

    row = f"{a}/api/v1/config/cors-origins/{added.json()['id']}/"
    disabled = httpx.patch(row, json={"enabled": False}, headers=headers)
    assert disabled.status_code == 200, disabled.text
    gone = _read_until(lambda: not _allowed(b), changed_at=time.monotonic())
    print(f"the other process allowed it after {seen:.3f} s and refused it after {gone:.3f} s")
