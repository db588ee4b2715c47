"""Helpers for tests that start real processes: servers, or a new Python."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

HEALTH = "/api/v1/health/"
ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """`code` run by a new Python in the project's directory, with this environment plus
    `env`: what a process starting afresh imports and does."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def wait_until_serving(proc: subprocess.Popen, url: str, log: Path, timeout: float = 60) -> None:
    """Wait until the server at `url` answers health/ with 200; fail with its log if it died."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, log.read_text()[-2000:]
        try:
            if httpx.get(f"{url}{HEALTH}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)
