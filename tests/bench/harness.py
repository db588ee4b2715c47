"""Benchmark harness: a production-style Resync on PostgreSQL, driven by wrk over loopback.

Reusable by every benchmark: prepare the database, start gunicorn with DEBUG off, run a
bounded wrk load, parse its figures, read worker RSS. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/resync_bench"
BENCH_JOBS = 100_000


def ensure_wrk() -> str:
    """wrk from Debian's packages, installed on first use."""
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (apt-get)...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL
    )
    return shutil.which("wrk") or "wrk"


def ensure_database(url: str) -> None:
    """Create the bench database if it does not exist."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def bench_env(database_url: str, **extra: str) -> dict[str, str]:
    """Production settings with throwaway secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RESYNC_"))}
    env.update(
        RESYNC_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        RESYNC_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # Plain HTTP over loopback, no TLS proxy: no Secure cookies, HSTS or HTTPS redirect.
        DJANGO_SECURE_COOKIES="0",
        DJANGO_HSTS_SECONDS="0",
        DJANGO_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        LOG_LEVEL="warning",
        # The bench clients are load generators: per-client rate limits would turn their
        # load into 429s. Login throttling and lockout stay on (tests.bench.login_flood).
        RESYNC_THROTTLE_ANON="off",
        RESYNC_THROTTLE_USER="off",
        RESYNC_THROTTLE_API_KEY="off",
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout


def shell(env: dict[str, str], code: str) -> str:
    """Run Python in `manage.py shell` and return what it printed."""
    return manage(env, "shell", "--no-imports", "-c", code).strip()


def prepare_plan(env: dict[str, str], jobs: int = BENCH_JOBS) -> None:
    """Migrate and load the demo plan (kept between runs when it already has `jobs` jobs)."""
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")  # production serves static via WhiteNoise
    count = shell(env, "from apps.core.models import Job; print(Job.objects.count())")
    if int(count.strip()) != jobs:
        print(f"loading {jobs:,} demo jobs...", flush=True)
        print(manage(env, "load_demo_plan", "--jobs", str(jobs), "--replace", "-v0").strip())


def served_plan(jobs: int = BENCH_JOBS) -> tuple[dict[str, str], str]:
    """The usual set-up of a served benchmark: wrk, the bench database (BENCH_DATABASE_URL)
    with `jobs` demo jobs, Redis (BENCH_REDIS_URL, DB 14); returns the server's environment
    (per-client rate limits off) and a viewer's JWT."""
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    ensure_wrk()
    ensure_database(database_url)
    env = bench_env(database_url, REDIS_URL=redis_url)
    prepare_plan(env, jobs)
    return env, bench_token(env)


def bench_token(env: dict[str, str], *, monitoring: bool = False) -> str:
    """A JWT for a bench user, minted through simplejwt: a viewer (reads the plan), and an
    auditor too with `monitoring` (reads the pool and cache statistics)."""
    roles = ["viewer", "auditor"] if monitoring else ["viewer"]
    code = (
        "from django.contrib.auth import get_user_model;"
        "from django.contrib.auth.models import Group;"
        "from rest_framework_simplejwt.tokens import AccessToken;"
        "u, _ = get_user_model().objects.get_or_create(username='bench');"
        f"u.groups.set(Group.objects.filter(name__in={roles!r}));"
        "print(AccessToken.for_user(u))"
    )
    return shell(env, code)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running gunicorn."""

    process: subprocess.Popen
    url: str
    started_at: float
    ready_s: float = 0.0  # seconds from the process start to the first healthy answer

    def worker_pids(self) -> list[int]:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def worker_rss_mb(self) -> list[float]:
        sizes = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            sizes.append(kb / 1024)
        return sizes


@contextmanager
def gunicorn(
    env: dict[str, str],
    *,
    workers: int = 2,
    threads: int = 4,
    ready_path: str = "/api/v1/health/",
    port: int | None = None,
) -> Iterator[Server]:
    """Start gunicorn (gthread, resync_site/gunicorn.conf.py's hooks) on `port` (default: a
    free one); wait for `ready_path`."""
    port = port or free_port()
    cmd = [
        PY,
        "-m",
        "gunicorn",
        "--config",
        "resync_site/gunicorn.conf.py",  # as deployed (README: Production)
        "resync_site.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    with _served(cmd, env, port, ready_path) as server:
        yield server


@contextmanager
def granian(
    env: dict[str, str],
    *,
    workers: int = 2,
    threads: int = 8,
    ready_path: str = "/api/v1/health/",
) -> Iterator[Server]:
    """Start the production server (`python -m resync_site.serve`: granian, README:
    Production); wait for `ready_path`."""
    port = free_port()
    cmd = [
        PY,
        "-m",
        "resync_site.serve",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    with _served(cmd, env, port, ready_path) as server:
        yield server


SERVERS = {"granian": granian, "gunicorn": gunicorn}


@contextmanager
def _served(cmd: list[str], env: dict[str, str], port: int, ready_path: str) -> Iterator[Server]:
    """Run a server command until the block ends; yield it once `ready_path` answers 200."""
    started = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{port}", started)
    try:
        server.ready_s = wait_healthy(server, path=ready_path)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def wait_healthy(server: Server, timeout: float = 60, path: str = "/api/v1/health/") -> float:
    """Seconds from process start to the first 200 from the health endpoint (or `path`)."""
    deadline = time.monotonic() + timeout
    # One client for every probe: a new one per probe (httpx.get) builds an SSL context,
    # ~0.1 s that was counted as the server's start-up, and the probes are 10 ms apart
    # rather than 50, so the figure is the server's and not the polling's.
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError("the server exited during start-up")
            try:
                if client.get(f"{server.url}{path}").status_code == 200:
                    return time.perf_counter() - server.started_at
            except httpx.HTTPError:
                pass
            time.sleep(0.01)
    raise RuntimeError("the server did not become healthy")


@dataclass
class LoadResult:
    """wrk's figures for one run."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> LoadResult:
    percentile = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.M))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return LoadResult(
        requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_ms(percentile["50"]),
        p99_ms=_ms(percentile["99"]),
        requests=requests,
        errors=errors,
    )


def wrk(
    url: str,
    *,
    connections: int,
    duration: int,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """A bounded wrk run over loopback (`headers`: more request headers, e.g. a Cookie)."""
    threads = min(2, connections)
    cmd = [
        ensure_wrk(),
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--timeout",
        "10s",
        "--latency",
        url,
    ]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    for name, value in (headers or {}).items():
        cmd[1:1] = ["-H", f"{name}: {value}"]
    result = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=duration + 30)
    return parse_wrk(result.stdout)
