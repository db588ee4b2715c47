"""gunicorn settings for Resync: `gunicorn -c gunicorn.conf.py resync_site.wsgi` (gunicorn
also reads ./gunicorn.conf.py by itself when started from this directory).

Workers: WEB_CONCURRENCY (gunicorn's own default reads it); anything given on the command
line wins over this file.

Metrics with several workers: each worker writes its metrics to files in
PROMETHEUS_MULTIPROC_DIR and the one answering GET /metrics adds them all up. Unset, a new
temporary directory is used for this server (removed when it exits). The variable is set
here, before any worker imports prometheus_client, which chooses the multiprocess mode once,
at import. The directory is emptied when the server starts, and an exited worker's live
gauges are dropped (its counters stay).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # started from another directory

from apps.monitoring.multiprocess import (  # (after the path above)
    multiprocess_dir_clean,
    multiprocess_dir_ensure,
    multiprocess_dir_release,
    worker_exited,
)

METRICS_DIR = multiprocess_dir_ensure()


def on_starting(server) -> None:
    """Once, in the master, before the first worker: no counts from a previous run."""
    multiprocess_dir_clean(METRICS_DIR)


def child_exit(server, worker) -> None:
    worker_exited(worker.pid)


def on_exit(server) -> None:
    multiprocess_dir_release()
