"""The production launcher (resync_site/serve.py) sets Django up once, before granian forks."""

from __future__ import annotations

import json
import subprocess

from tests.processes import run_python

PRELOADED = """
import gc, json, sys, threading
from django.db import connections
from resync_site import serve
serve._preload()
from apps.monitoring import health
print(json.dumps({
    "app": "resync_site.wsgi" in sys.modules,
    "urlconf": "resync_site.urls" in sys.modules,
    "migrations": health._expected_migrations is not None,
    "jwt": "jwt" in sys.modules,
    "connections": [c.connection is not None for c in connections.all()],
    "threads": threading.active_count(),
    "frozen": gc.get_freeze_count() > 0,
}))
"""

THREAD_FIRST = """
import threading
from resync_site import serve
stop = threading.Event()
threading.Thread(target=stop.wait, name="early-bird", daemon=True).start()
serve._preload()
"""


def _launcher_python(code: str) -> subprocess.CompletedProcess:
    return run_python(code, DJANGO_SETTINGS_MODULE="resync_site.settings")


def test_the_launcher_loads_what_workers_need_without_a_connection_or_a_thread():
    done = _launcher_python(PRELOADED)

    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    for what in ("app", "urlconf", "migrations", "jwt"):
        assert loaded[what], what
    assert not any(loaded["connections"])  # a forked worker must never share one
    assert loaded["threads"] == 1
    assert loaded["frozen"]


def test_the_launcher_refuses_to_fork_over_a_running_thread():
    done = _launcher_python(THREAD_FIRST)

    assert done.returncode != 0
    assert "threads started while setting Django up: early-bird" in done.stderr
