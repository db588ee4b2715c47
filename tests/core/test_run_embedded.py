"""manage.py run_embedded (what `make run` starts), run as a user runs it: real processes.

Each test gets its own SQLite database and local secrets file in tmp_path, whatever the
suite's database: what is under test is the process (ports, exit codes, the shared HWA
connection row), not the database engine.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from apps.core.management.commands.ensure_demo_admin import ADMIN_NOT_IN_FILE
from apps.core.management.commands.run_embedded import (
    CHILD_EXITED,
    HWA_PORT_BUSY,
    LLM_PORT_BUSY,
    PORT_BUSY,
    UNREADABLE_REPLACED,
)
from tests.bench.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE_S = 90  # migrating a new SQLite database on a loaded 2-core machine


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RESYNC_"))}
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        RESYNC_LOCAL_FILE=str(tmp_path / "local.json"),
        LOG_LEVEL="warning",
        **extra,
    )
    return env


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "run_embedded", "--jobs", "200", *args],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        yield listener.getsockname()[1]


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("CommandError: ")
    return lines[0].removeprefix("CommandError: ")


def test_a_busy_server_port_fails_in_one_line_before_touching_anything(tmp_path, busy_port):
    result = _run(tmp_path, "--port", str(busy_port))

    message = _one_error_line(result)
    free = int(message.rsplit("--port ", 1)[1].rstrip(")."))
    assert message == PORT_BUSY.format(port=busy_port, host="127.0.0.1", free=free)
    assert not (tmp_path / "db.sqlite3").exists()  # not even migrated


def test_a_busy_simulator_port_fails_in_one_line_before_touching_anything(tmp_path, busy_port):
    result = _run(tmp_path, "--port", str(free_port()), "--hwa-port", str(busy_port))

    assert _one_error_line(result) == HWA_PORT_BUSY.format(port=busy_port, host="127.0.0.1")
    assert not (tmp_path / "db.sqlite3").exists()


def test_a_busy_model_simulator_port_fails_in_one_line_before_touching_anything(
    tmp_path, busy_port
):
    result = _run(tmp_path, "--port", str(free_port()), "--llm-port", str(busy_port))

    assert _one_error_line(result) == LLM_PORT_BUSY.format(port=busy_port, host="127.0.0.1")
    assert not (tmp_path / "db.sqlite3").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_exits_non_zero_when_the_port_is_busy(tmp_path, busy_port):
    # STAMP=Makefile: an existing file, so make does not build a virtualenv first.
    command = ["make", "-s", "run", f"PORT={busy_port}", f"PY={sys.executable}", "STAMP=Makefile"]

    result = subprocess.run(
        command, cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, check=False
    )

    assert result.returncode != 0
    assert f"Port {busy_port} on 127.0.0.1 is in use" in result.stderr


def _base_url(database: Path) -> str:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT base_url FROM core_hwaconnection").fetchone()[0]


def _as_background_job() -> None:
    # A shell starts `make run &` with SIGINT ignored; the children inherit that.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start(
    tmp_path: Path, port: int, log_name: str, *, background: bool = False, **env: str
) -> subprocess.Popen:
    log = (tmp_path / log_name).open("w+b")  # a file, never an unread pipe
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_embedded", "--jobs", "200", "--port", str(port)],
        cwd=ROOT,
        env=_env(tmp_path, **env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal's job has
        preexec_fn=_as_background_job if background else None,
    )
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / log_name).read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    proc.kill()
    pytest.fail(f"run_embedded did not serve within {START_DEADLINE_S} s")


def _stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)


@pytest.mark.slow
def test_a_second_instance_leaves_the_first_ones_connection_alone(tmp_path):
    database = tmp_path / "db.sqlite3"
    port = free_port()
    first = _start(tmp_path, port, "first.log")
    try:
        first_sim = _base_url(database)

        same_port = _run(tmp_path, "--port", str(port))
        assert f"Port {port} on 127.0.0.1 is in use" in _one_error_line(same_port)
        assert _base_url(database) == first_sim

        second = _start(tmp_path, free_port(), "second.log")  # `make run PORT=...`
        assert _base_url(database) != first_sim
        assert _stop(second) == 0
        assert _base_url(database) == first_sim  # handed back to the first instance
    finally:
        assert _stop(first) == 0


def _assistant_url(database: Path) -> str:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT base_url FROM core_assistantconfig").fetchone()[0]


@pytest.mark.slow
def test_the_assistant_is_pointed_at_the_model_simulator_and_handed_back(tmp_path):
    database = tmp_path / "db.sqlite3"
    first = _start(tmp_path, free_port(), "first.log")
    try:
        first_url = _assistant_url(database)
        models = httpx.get(f"{first_url}/models", timeout=5).json()
        assert [m["id"] for m in models["data"]] == ["resync-simulator"]

        second = _start(tmp_path, free_port(), "second.log")
        assert _assistant_url(database) != first_url
        assert _stop(second) == 0
        assert _assistant_url(database) == first_url  # handed back to the first instance
    finally:
        assert _stop(first) == 0


@pytest.mark.slow
def test_after_the_local_file_is_deleted_it_says_what_happened_and_still_serves(tmp_path):
    assert _stop(_start(tmp_path, free_port(), "first.log")) == 0
    (tmp_path / "local.json").unlink()  # new secrets: a new key and admin password

    proc = _start(tmp_path, free_port(), "again.log")
    assert _stop(proc) == 0

    log = (tmp_path / "again.log").read_text()
    assert ADMIN_NOT_IN_FILE.format(username="admin", file=tmp_path / "local.json") in log
    assert UNREADABLE_REPLACED.format(name="default") in log
    assert "Traceback" not in log


@pytest.mark.slow
@pytest.mark.parametrize("background", [False, True], ids=["terminal", "background-job"])
def test_sigint_to_the_whole_group_stops_everything_cleanly(tmp_path, background):
    proc = _start(tmp_path, free_port(), "run.log", background=background)

    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does

    assert proc.wait(timeout=30) == 0, (tmp_path / "run.log").read_text()
    assert (
        "Stopped the server, the sync loop and the simulator." in (tmp_path / "run.log").read_text()
    )


@pytest.mark.slow
def test_a_child_that_dies_makes_the_command_fail(tmp_path):
    port = free_port()
    proc = _start(tmp_path, port, "run.log")
    server = next(
        child
        for child in _children(proc.pid)
        if "runserver" in Path(f"/proc/{child}/cmdline").read_text()
    )

    os.kill(server, signal.SIGKILL)

    assert proc.wait(timeout=30) == 1
    log = (tmp_path / "run.log").read_text()
    assert CHILD_EXITED.format(name="web server", code=-signal.SIGKILL) in log


@pytest.mark.slow
def test_the_servers_metrics_count_the_sync_loops_hwa_calls_and_it_is_ready(tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    port = free_port()
    proc = _start(
        tmp_path, port, "run.log", RESYNC_METRICS_ALLOWED_IPS="127.0.0.1", TMPDIR=str(temporary)
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        # Only the sync loop calls HWA; the web server reports it (a shared metrics directory).
        while 'resync_hwa_request_duration_seconds_count{operation="list_jobs"}' not in (
            metrics := httpx.get(f"{url}/metrics", timeout=10).text
        ):
            assert time.monotonic() < deadline, metrics
            time.sleep(0.5)
        ready = httpx.get(f"{url}/api/v1/health/ready/", timeout=10)
        assert (ready.status_code, ready.json()) == (200, {"status": "healthy"})
        assert len(list(temporary.glob("resync-metrics-*"))) == 1
    finally:
        assert _stop(proc) == 0
    assert not list(temporary.glob("resync-metrics-*"))  # removed on the way out


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]
