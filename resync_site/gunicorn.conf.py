"""gunicorn settings for Resync: `gunicorn -c resync_site/gunicorn.conf.py` (README: Production).

The command line wins over this file; bind is usually given there, workers come from
WEB_CONCURRENCY and threads from RESYNC_SERVER_THREADS (resync_site/serving.py).

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # gunicorn runs this file alone

from apps.monitoring.multiprocess import (  # (after the path above)
    multiprocess_dir_clean,
    multiprocess_dir_ensure,
    multiprocess_dir_release,
    worker_exited,
)
from resync_site.env import env_bool, env_list
from resync_site.serving import server_threads

wsgi_app = "resync_site.wsgi:application"
worker_class = "gthread"
threads = server_threads()  # RESYNC_SERVER_THREADS, which manage.py check sizes too

# gunicorn takes X-Forwarded-Proto (and its other "secure scheme" headers) as proof of HTTPS
# from the addresses in forwarded_allow_ips, by default 127.0.0.1 whatever Django is told, so
# any local process could pass a plain-HTTP request off as HTTPS. Here it follows Django's
# switch: believed only when DJANGO_BEHIND_TLS_PROXY is on, and then only from
# RESYNC_TRUSTED_PROXIES (default: this host, where a local proxy connects from).
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    forwarded_allow_ips = ",".join(env_list("RESYNC_TRUSTED_PROXIES")) or "127.0.0.1,::1"
else:
    forwarded_allow_ips = ""

# gunicorn always sends "Server: gunicorn" (no version since 20.1) and has no setting to
# change or drop it; the TLS proxy in front can (README: Production).

METRICS_DIR = multiprocess_dir_ensure()


def on_starting(server) -> None:
    """Once, in the master, before the first worker: no counts from a previous run."""
    multiprocess_dir_clean(METRICS_DIR)


def child_exit(server, worker) -> None:
    worker_exited(worker.pid)


def on_exit(server) -> None:
    multiprocess_dir_release()
