"""prometheus_client's multiprocess mode: the shared directory's life cycle.

Several worker processes each write their metrics to files in PROMETHEUS_MULTIPROC_DIR and
whichever answers a scrape adds them all up. The directory must be emptied when the server
starts (files from a previous run would add old counts to the new ones), and an exited
worker's live gauges dropped. resync_site/gunicorn.conf.py calls these from its hooks;
run_embedded at its start, for its sync loop and server.

No Django here, and prometheus_client is imported inside a function only: the variable must
be set before prometheus_client is first imported in a process, since it chooses the
multiprocess mode once, at import (resync_site/gunicorn.conf.py sets it before anything imports it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
# Set to the directory when multiprocess_dir_ensure made it, so only that one is removed.
OWNED_ENV = "RESYNC_METRICS_DIR_MADE"
PREFIX = "resync-metrics-"


def multiprocess_dir_ensure(environ: MutableMapping[str, str] = os.environ) -> Path:
    """`environ`'s PROMETHEUS_MULTIPROC_DIR, created if missing; a new temporary directory
    (recorded in `environ`) when the variable is unset. Never empties it."""
    given = environ.get(ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        return path
    path = Path(tempfile.mkdtemp(prefix=PREFIX))
    environ[ENV] = environ[OWNED_ENV] = str(path)
    return path


def multiprocess_dir_clean(path: Path) -> int:
    """Delete every metrics file in `path` (at server start); returns how many."""
    removed = 0
    for file in path.glob("*.db"):
        file.unlink(missing_ok=True)
        removed += 1
    return removed


def multiprocess_dir_release(environ: MutableMapping[str, str] = os.environ) -> None:
    """Remove the directory if multiprocess_dir_ensure made it (at server exit)."""
    made = environ.get(OWNED_ENV)
    if made and made == environ.get(ENV):
        shutil.rmtree(made, ignore_errors=True)


def worker_exited(pid: int) -> None:
    """Drop an exited worker's live gauges (its counters stay: what it counted happened)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)
