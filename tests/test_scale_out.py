"""Scale-out shown: two servers and two sync loops on one PostgreSQL and one Redis.

Two gunicorn servers (resync_site/gunicorn.conf.py, one worker each) and two
`sync_plan --loop` processes share a database of their own (created on the configured
PostgreSQL server for this module, dropped after) and the configured Redis, and sync from
the bundled HWA simulator, which runs in this test process and logs every call it gets.
What one process does, the others must see (docs/operations.md, "Running more than one
server"):

- the loops make one sync per interval between them: the other loop skips;
- a configuration change and a login lockout made through one server hold in the other
  within a second;
- a rate limit counts the requests of both servers.

Only the start of a read is timed against the one-second bound, never how long anything
takes, so a loaded machine cannot make these fail; waiting for progress has a generous
deadline.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection

from apps.core.hwa.simulator import SimulatorPlan, SimulatorServer
from apps.core.services.sync import SKIPPED_DETAIL, SYNCED_RECENTLY, interval_slack
from apps.security.lockout import LOCKED_OUT
from tests.bench import harness

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.REDIS_URL,
        reason="needs DATABASE_URL on PostgreSQL and REDIS_URL, which several servers share "
        "(the embedded default, SQLite and per-process rate limits, serves from one process)",
    ),
]

VISIBLE_WITHIN_S = 1.0  # the bound: what one server did, the other sees in a second
PROGRESS_DEADLINE_S = 120.0  # generous: only how long we wait for the loops to get going
SYNC_INTERVAL_S = 2.0
SYNCS_TO_SEE = 4
LOCKOUT_FAILURES = 3
CSP_REPORT_LIMIT = 6
CSP_REPORT_RATE = f"{CSP_REPORT_LIMIT}/hour"
CACHE_KEY_PREFIX = "resync-scale-out"  # this module's processes' keys, apart from pytest's
ADMIN, VICTIM, PASSWORD = "scale-admin", "scale-victim", "a-scale-out-password-51c"
SIM_PASSWORD = "scale-out-sim-password"
SETUP = """
import os
from django.contrib.auth import get_user_model
from apps.core.models import HwaConnection
from apps.core.services.hwa import hwa_connection_save

users = get_user_model().objects
users.create_superuser(os.environ["T_ADMIN"], password=os.environ["T_PASSWORD"])
users.create_user(os.environ["T_VICTIM"], password=os.environ["T_PASSWORD"])
connection = HwaConnection(base_url=os.environ["T_HWA_URL"], username="resync", page_size=100)
hwa_connection_save(
    connection=connection, actor=None, source="system", password=os.environ["T_HWA_PASSWORD"]
)
"""
MINT_TOKEN = (
    "from django.contrib.auth import get_user_model;"
    "from rest_framework_simplejwt.tokens import AccessToken;"
    f"print(AccessToken.for_user(get_user_model().objects.get(username={ADMIN!r})))"
)
CSP_REPORT = {
    "csp-report": {
        "document-uri": "https://resync.example/admin/",
        "violated-directive": "script-src-elem",
        "blocked-uri": "https://cdn.evil.example/x.js",
    }
}


@dataclass
class Cluster:
    """The two servers' URLs, the two sync loops, the simulator and the shared database."""

    servers: list[str]
    sim: SimulatorServer
    database_url: str
    env: dict[str, str]
    logs: Path
    admin: httpx.Client | None = None
    loops: list[subprocess.Popen] = field(default_factory=list)

    def start_loops(self) -> None:
        for _ in range(2):
            log = self.logs / f"sync-loop-{len(self.loops)}.log"
            with log.open("wb") as out:  # a file, never an unread pipe
                command = ["manage.py", "sync_plan", "--loop", "--interval", str(SYNC_INTERVAL_S)]
                self.loops.append(
                    subprocess.Popen(
                        [harness.PY, *command],
                        cwd=harness.ROOT,
                        env=self.env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )

    def stop_loops(self) -> None:
        """SIGTERM: each loop ends its run in progress, then exits."""
        for loop in self.loops:
            if loop.poll() is None:
                loop.terminate()
        for n, loop in enumerate(self.loops):
            assert loop.wait(timeout=60) == 0, self.loop_log(n)
        self.loops.clear()

    def loop_log(self, n: int) -> str:
        return (self.logs / f"sync-loop-{n}.log").read_text()[-2000:]


def _database_url() -> str:
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    auth = f"{user}:{db['PASSWORD']}" if db["PASSWORD"] else user
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"


@contextlib.contextmanager
def _own_database() -> Iterator[str]:
    """A database for this module's processes, on the configured server; dropped after."""
    server = _database_url()
    name = f"{connection.settings_dict['NAME']}_scale_out"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(database_url: str) -> dict[str, str]:
    return harness.bench_env(  # production settings, throwaway secrets shared by all four
        database_url,
        REDIS_URL=settings.REDIS_URL,
        CACHE_KEY_PREFIX=CACHE_KEY_PREFIX,
        RESYNC_LOCKOUT_FAILURES=str(LOCKOUT_FAILURES),
        RESYNC_THROTTLE_LOGIN="1000/min",  # the lockout is under test, not the login rate
        RESYNC_THROTTLE_CSP_REPORT=CSP_REPORT_RATE,
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    plan = SimulatorPlan(jobs=200, seed=5)
    with (
        _own_database() as database_url,
        SimulatorServer(plan=plan, password=SIM_PASSWORD) as sim,
        contextlib.ExitStack() as stack,
    ):
        env = _env(database_url)
        cluster = Cluster([], sim, database_url, env, tmp_path_factory.mktemp("scale-out"))
        harness.manage(env, "migrate", "--noinput", "-v0")
        harness.shell(
            {
                **env,
                "T_ADMIN": ADMIN,
                "T_VICTIM": VICTIM,
                "T_PASSWORD": PASSWORD,
                "T_HWA_URL": sim.base_url,
                "T_HWA_PASSWORD": SIM_PASSWORD,
            },
            SETUP,
        )
        stack.callback(cluster.stop_loops)
        cluster.start_loops()  # all four processes run through every test of the module
        for _ in range(2):
            cluster.servers.append(
                stack.enter_context(harness.gunicorn(env, workers=1, threads=4)).url
            )
        headers = {"Authorization": f"Bearer {harness.shell(env, MINT_TOKEN)}"}
        cluster.admin = stack.enter_context(httpx.Client(headers=headers, timeout=30))
        yield cluster


def _until_within_bound(fresh: Callable[[], bool], *, written_at: float) -> None:
    """Ask until `fresh()`; an answer asked for VISIBLE_WITHIN_S after the write must be."""
    while True:
        asked = time.monotonic()
        if fresh():
            break
        late = asked - written_at
        assert late < VISIBLE_WITHIN_S, f"asked {late:.2f} s after the write, still the old state"
        time.sleep(0.05)
    print(f"seen by the other server {time.monotonic() - written_at:.3f} s after the write")


def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


# --- configuration --------------------------------------------------------------------------
def test_a_cache_config_change_through_one_server_holds_in_the_other(cluster):
    a, b = cluster.servers
    admin = cluster.admin

    def ttl_in(url: str) -> int:
        return _ok(admin.get(f"{url}/api/v1/cache/stats/"))["tiers"]["l1"]["config"]["ttl_seconds"]

    target = ttl_in(b) + 17
    _ok(admin.patch(f"{a}/api/v1/config/cache/", json={"ttl_seconds": target}))

    _until_within_bound(lambda: ttl_in(b) == target, written_at=time.monotonic())


def test_a_pool_config_change_through_one_server_holds_in_the_other(cluster):
    a, b = cluster.servers
    admin = cluster.admin

    def max_size_in(url: str) -> int:
        return _ok(admin.get(f"{url}/api/v1/pools/stats/"))["pools"]["database"]["config"][
            "max_size"
        ]

    body = _ok(admin.get(f"{a}/api/v1/config/pools/database/"))
    body = {k: v for k, v in body.items() if k not in ("name", "updated_at")}
    target = body["max_size"] + 1
    _ok(admin.put(f"{a}/api/v1/config/pools/database/", json={**body, "max_size": target}))

    _until_within_bound(lambda: max_size_in(b) == target, written_at=time.monotonic())


# --- lockout and rate limits ----------------------------------------------------------------
def _login(url: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/auth/token/", json={"username": VICTIM, "password": password}, timeout=30
    )


def test_a_lockout_through_one_server_holds_in_the_other(cluster):
    a, b = cluster.servers
    assert _login(b, PASSWORD).status_code == 200  # not locked before (and counts reset)

    statuses = [_login(a, "a-wrong-guess").status_code for _ in range(LOCKOUT_FAILURES)]
    assert statuses == [401] * (LOCKOUT_FAILURES - 1) + [429]

    def locked_in_b() -> bool:
        response = _login(b, PASSWORD)
        if response.status_code != 429:
            assert response.status_code == 200, response.text
            return False
        prefix = LOCKED_OUT.split("{")[0]
        assert response.json()["detail"].startswith(prefix), response.text
        return True

    _until_within_bound(locked_in_b, written_at=time.monotonic())


def _hour() -> int:
    return int(time.time() // 3600)  # the CSP report rate's fixed window (per hour)


def _clear_csp_report_counters() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(f"{CACHE_KEY_PREFIX}-shared:*throttle:csp_report:*"))
    if keys:
        client.delete(*keys)


def test_a_rate_limit_counts_the_requests_of_both_servers(cluster):
    a, b = cluster.servers
    for _ in range(2):  # a second try only if the hour's window turned during the first
        _clear_csp_report_counters()
        window = _hour()
        statuses = [
            httpx.post(
                f"{(a, b)[n % 2]}/api/v1/security/csp-report/",
                json=CSP_REPORT,
                headers={"Content-Type": "application/csp-report"},
                timeout=30,
            ).status_code
            for n in range(CSP_REPORT_LIMIT + 4)
        ]
        if _hour() == window:
            break
    # Per-process counters would let each server take CSP_REPORT_LIMIT (all 204 here).
    assert statuses == [204] * CSP_REPORT_LIMIT + [429] * 4


# --- one sync per interval ------------------------------------------------------------------
def _runs(database_url: str) -> list[tuple[str, str, str, int]]:
    """(status, error, host, repeats) of every SyncRun row, oldest first."""
    with psycopg.connect(database_url) as db:
        return db.execute(
            "SELECT status, error, host, repeats FROM core_syncrun ORDER BY started_at, id"
        ).fetchall()


def _attempts(runs, *, skipped: bool) -> int:
    return sum(1 + repeats for status, _, _, repeats in runs if (status == "skipped") == skipped)


def _syncs_seen(sim: SimulatorServer) -> list[tuple[float, float]]:
    """Each sync's first and last HWA call (by its Request-Id), in order; fails if two
    syncs' calls interleave (two running at once)."""
    spans: dict[str, list[float]] = {}
    order: list[str] = []
    for logged in sim.request_log():
        assert logged.request_id, f"{logged.method} {logged.path} without a Request-Id"
        if logged.request_id not in spans:
            spans[logged.request_id] = [logged.at, logged.at]
            order.append(logged.request_id)
        else:
            assert order[-1] == logged.request_id, "two syncs called HWA at the same time"
            spans[logged.request_id][1] = logged.at
    return [tuple(spans[rid]) for rid in order]


def _assert_an_interval_apart(syncs: list[tuple[float, float]]) -> list[float]:
    """One per interval: each sync starts an interval (less the clock slack) after the last
    one ended. Returns the gaps (s)."""
    every = timedelta(seconds=SYNC_INTERVAL_S)
    shortest = (every - interval_slack(every)).total_seconds()
    gaps = [start - end for (_, end), (start, _) in itertools.pairwise(syncs)]
    assert all(gap >= shortest for gap in gaps), f"two syncs in one interval: gaps {gaps}"
    return gaps


def test_two_loops_make_one_sync_per_interval_and_the_other_skips(cluster):
    # Watch two fresh loops from their start, whatever ran before in this module.
    cluster.stop_loops()
    with psycopg.connect(cluster.database_url) as db:
        db.execute("DELETE FROM core_syncrun")
    cluster.sim.reset_counts()
    cluster.start_loops()
    deadline = time.monotonic() + PROGRESS_DEADLINE_S
    while True:
        runs = _runs(cluster.database_url)
        syncs = _syncs_seen(cluster.sim)
        _assert_an_interval_apart(syncs)  # at once, rather than at the deadline
        if len(syncs) >= SYNCS_TO_SEE and _attempts(runs, skipped=True) >= 2:
            break
        assert time.monotonic() < deadline, f"the loops made no progress: {runs}"
        for n, loop in enumerate(cluster.loops):
            assert loop.poll() is None, cluster.loop_log(n)
        time.sleep(0.5)
    loop_hosts = {f"{socket.gethostname()}:{loop.pid}" for loop in cluster.loops}
    cluster.stop_loops()  # a still picture: every sync HWA saw is in the database

    runs = _runs(cluster.database_url)
    syncs = _syncs_seen(cluster.sim)
    assert {status for status, *_ in runs} <= {"ok", "skipped"}, runs
    assert _attempts(runs, skipped=False) == len(syncs)
    assert {error for status, error, *_ in runs if status == "skipped"} <= {
        SKIPPED_DETAIL,
        SYNCED_RECENTLY,
    }
    assert {host for *_, host, _ in runs} <= loop_hosts
    gaps = _assert_an_interval_apart(syncs)
    print(f"{len(syncs)} syncs, {_attempts(runs, skipped=True)} skipped; gaps (s) {gaps}")
