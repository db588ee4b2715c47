"""Helpers for tests that start real server processes."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

HEALTH = "/api/v1/health/"


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
