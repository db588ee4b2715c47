"""The production server: granian running Resync's WSGI application (`make serve`).

    python -m resync_site.serve [--bind 127.0.0.1:8000] [--workers N] [--threads N]

Workers and threads default to resync_site/serving.py's reading of the environment
(`WEB_CONCURRENCY`, `RESYNC_SERVER_THREADS`), which `manage.py check` also sizes against
PostgreSQL's connections. granian served the same app 1.45-1.9x faster than gunicorn here
(docs/performance-notes.md, README: Production); gunicorn with resync_site/gunicorn.conf.py
remains the documented alternative.

Metrics from several workers: as for gunicorn, PROMETHEUS_MULTIPROC_DIR is set (a new
temporary directory when unset) and emptied before any worker starts, and prometheus_client
is never imported here, since it picks the multiprocess mode once, at import. granian does
not restart a worker that exits (no respawn configured), so no dead worker's live gauges
linger; the directory is removed at exit when this launcher made it.

Start-up: granian forks its workers (Linux, Python < 3.14), so Django is set up once, here,
before the fork (`_preload`): the workers inherit the imported modules, the middleware chain
and the URLconf instead of each importing them again (~0.8 s of CPU per worker, all of them
at once on a 2-core host), and share those pages copy-on-write. Safe because setting up
opens no database or Redis connection and starts no thread (checked before forking); the
fork-sensitive parts already start afresh in a child (pools and threads are created on first
use, prometheus_client's multiprocess files are per pid).

X-Forwarded-Proto: granian passes headers through untouched; Django believes the header
only when DJANGO_BEHIND_TLS_PROXY is on (SECURE_PROXY_SSL_HEADER). Bind an address only the
TLS proxy reaches.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import sys
import threading
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script, too

from apps.monitoring.multiprocess import (  # (after the path above)
    multiprocess_dir_clean,
    multiprocess_dir_ensure,
    multiprocess_dir_release,
)
from resync_site.serving import server_threads, server_workers

WSGI_APP = "resync_site.wsgi:application"


def _bind(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m resync_site.serve", description=__doc__)
    parser.add_argument("--bind", type=_bind, default=("127.0.0.1", 8000), help="HOST:PORT")
    parser.add_argument("--workers", type=_positive, default=None, help="WEB_CONCURRENCY")
    parser.add_argument(
        "--threads", type=_positive, default=None, help="per worker; RESYNC_SERVER_THREADS"
    )
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args(argv)


def _preload() -> None:
    """Set Django up in this process, for forked workers to inherit (module docstring)."""
    if multiprocessing.get_start_method() != "fork":
        return  # spawned workers import everything again: loading here would be wasted
    from django.db import connections
    from django.urls import get_resolver

    from resync_site.wsgi import application  # noqa: F401  (django.setup, the middleware)

    get_resolver().url_patterns  # noqa: B018  (the URLconf imports, else on each first request)
    _import_first_request_modules()
    connections.close_all()  # none is expected; a connection must never be shared by forks
    running = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if running:  # a fork would copy their locks, not the threads: workers could deadlock
        raise RuntimeError(f"threads started while setting Django up: {', '.join(running)}")
    # Keep the collector off the inherited objects: each pass would write to their pages and
    # unshare them (copy-on-write) in every worker.
    gc.freeze()


def _import_first_request_modules() -> None:
    """What the first requests import or read from disk, so workers share it rather than
    each loading its own copy (~7 MB and tens of ms per worker): the migration graph the
    health check compares, JWT verification (PyJWT, cryptography), the cache, session and
    message backends. Classes and modules only: no connection, client or thread is made."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    from apps.monitoring.health import migrations_on_disk

    migrations_on_disk()
    import_module("rest_framework_simplejwt.backends")
    for path in (
        *(cache["BACKEND"] for cache in settings.CACHES.values()),
        settings.SESSION_SERIALIZER,
        settings.MESSAGE_STORAGE,
    ):
        import_string(path)
    import_module(settings.SESSION_ENGINE)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # Before anything imports prometheus_client, here or in the workers.
    metrics_dir = multiprocess_dir_ensure()
    multiprocess_dir_clean(metrics_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
    from granian import Granian
    from granian.constants import Interfaces

    workers = args.workers or server_workers()
    threads = args.threads or server_threads()
    # The workers read the same numbers (checks, metrics); keep them consistent.
    os.environ["WEB_CONCURRENCY"] = str(workers)
    os.environ["RESYNC_SERVER_THREADS"] = str(threads)
    _preload()
    host, port = args.bind
    print(
        f"Resync on http://{host}:{port}/ (granian, {workers} workers x {threads} threads)",
        flush=True,
    )
    server = Granian(
        WSGI_APP,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        backlog=2048,
        log_level=args.log_level,
        websockets=False,
    )
    try:
        server.serve()
    finally:
        multiprocess_dir_release()


if __name__ == "__main__":
    main()
