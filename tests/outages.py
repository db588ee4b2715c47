"""Outages on purpose: throwaway PostgreSQL and Redis servers, a real server, a load.

Outage tests must not touch the shared servers: each of these runs on its own free port,
in its own temporary directory, bound to 127.0.0.1, and is removed afterwards.

initdb and postgres refuse to run as root, so as root (CI) they run as the `postgres` OS
user through `runuser`, in a directory that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

from tests.bench import harness
from tests.bench.harness import free_port

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
PG_TIMEOUT_S = 60
NO_POSTGRES = "needs PostgreSQL's server binaries (initdb, pg_ctl) under " + PG_BIN_GLOB
NO_REDIS = "needs redis-server on the PATH"
NO_POSTGRES_USER = "running as root needs a `postgres` OS user to run initdb and postgres"


def postgres_bindir() -> Path | None:
    """The newest PostgreSQL's bin directory holding initdb and pg_ctl, if installed."""

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.name)
        except ValueError:
            return 0.0

    for bindir in sorted(glob.glob(PG_BIN_GLOB), key=version, reverse=True):
        if all((Path(bindir) / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(bindir)
    return None


def postgres_unavailable_reason() -> str | None:
    """Why a throwaway cluster cannot run here (a skip reason), or None."""
    if postgres_bindir() is None:
        return NO_POSTGRES
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return NO_POSTGRES_USER
    return None


class ThrowawayPostgres:
    """A private cluster: `start()`, `stop()` (a fast shutdown, as an outage), `destroy()`."""

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="resync-pg-"))
        self.data = self.root / "data"
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._pg(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._pg(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "-w",
            "-t",
            str(PG_TIMEOUT_S),
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", str(PG_TIMEOUT_S), "stop")

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.root / "log").read_text(errors="replace")[-3000:]
        return ""

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _pg(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=PG_TIMEOUT_S + 30, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stderr or result.stdout}\n{self.log()}")


class ThrowawayRedis:
    """A private redis-server without persistence: `kill()` it as an outage."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.kill()
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


# --- a server and a load to watch through an outage -------------------------------------
def server_env(database_url: str, redis_url: str | None = None) -> dict[str, str]:
    """Production settings (DEBUG off, throwaway secrets) on the given servers only."""
    env = harness.bench_env(database_url)
    env.pop("REDIS_URL", None)  # never the shared Redis: its config hash would mix in
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def prepare(env: dict[str, str], jobs: int = 300) -> tuple[str, str]:
    """Migrate, load a small plan; a viewer's and an auditor's JWT (who sees health details)."""
    harness.manage(env, "migrate", "--noinput", "-v0")
    harness.manage(env, "load_demo_plan", "--jobs", str(jobs), "--seed", "1", "-v0")
    return token(env, "outage-viewer", roles=["viewer"]), token(
        env, "outage-auditor", roles=["viewer", "auditor"]
    )


def token(env: dict[str, str], username: str, *, roles: list[str]) -> str:
    code = (
        "from django.contrib.auth import get_user_model;"
        "from django.contrib.auth.models import Group;"
        "from rest_framework_simplejwt.tokens import AccessToken;"
        f"u, _ = get_user_model().objects.get_or_create(username={username!r});"
        f"u.groups.set(Group.objects.filter(name__in={roles!r}));"
        "print(AccessToken.for_user(u))"
    )
    return harness.shell(env, code)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One request: when it started and ended (monotonic s), its status and body."""

    kind: str
    started: float
    ended: float
    status: int | str
    retry_after: str | None
    body: dict | None

    @property
    def seconds(self) -> float:
        return self.ended - self.started


# What the load asks for: plan reads the cache can answer, and reads that need PostgreSQL.
CACHED = ("/api/v1/jobs/status/", "/api/v1/jobs/?page_size=5")
UNCACHED = "/api/v1/jobs/?page_size=5&q={nonce}"
HEALTH = "/api/v1/health/"
CLIENT_TIMEOUT_S = 30.0  # far above any bound asserted: a hang shows as a long request


class Load:
    """Client threads sending requests in a loop until stopped, each outcome recorded."""

    def __init__(self, url: str, token: str, *, cached: int = 2, uncached: int = 2) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(kind,), daemon=True)
            for kind in ["cached"] * cached + ["uncached"] * uncached
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(CLIENT_TIMEOUT_S + 5)

    def _loop(self, kind: str) -> None:
        with httpx.Client(headers=self.headers, timeout=CLIENT_TIMEOUT_S) as client:
            n = 0
            while not self._stop.is_set():
                n += 1
                if kind == "cached":
                    path = CACHED[n % len(CACHED)]
                else:
                    path = UNCACHED.format(nonce=uuid.uuid4().hex[:8])
                self.record(request(client, self.url + path, kind))
                time.sleep(0.01)

    def record(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def between(self, start: float, end: float, kind: str | None = None) -> list[Outcome]:
        with self._lock:
            return [
                o
                for o in self.outcomes
                if start <= o.started < end and (kind is None or o.kind == kind)
            ]


def request(client: httpx.Client, url: str, kind: str) -> Outcome:
    started = time.monotonic()
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        return Outcome(kind, started, time.monotonic(), type(exc).__name__, None, None)
    ended = time.monotonic()
    try:
        body = response.json()
    except ValueError:
        body = None
    return Outcome(
        kind, started, ended, response.status_code, response.headers.get("Retry-After"), body
    )


def watch_health(url: str, token: str, until: float, every: float = 0.2) -> list[Outcome]:
    """Ask health (as staff) every `every` s until the monotonic time `until`."""
    outcomes = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers, timeout=CLIENT_TIMEOUT_S) as client:
        while time.monotonic() < until:
            outcomes.append(request(client, url + HEALTH, "health"))
            time.sleep(every)
    return outcomes


def first_success_after(url: str, token: str, since: float, limit_s: float) -> Outcome | None:
    """Send requests that need PostgreSQL until one succeeds (or `limit_s` passed)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers, timeout=CLIENT_TIMEOUT_S) as client:
        while time.monotonic() - since < limit_s:
            path = UNCACHED.format(nonce=uuid.uuid4().hex[:8])
            outcome = request(client, url + path, "uncached")
            if outcome.status == 200:
                return outcome
            time.sleep(0.02)
    return None
