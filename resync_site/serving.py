"""How big the web server is: one reading for the servers and the connection-budget check.

`WEB_CONCURRENCY` worker processes (the variable gunicorn and most platforms already use),
each with `RESYNC_SERVER_THREADS` threads running requests. Every process has its own
database pool (`DB_POOL_MAX_SIZE`), so PostgreSQL sees up to workers x pool connections from
the server; the threads of a process share its pool, and a thread beyond the pool's size
waits for a connection (at most DB_REQUEST_TIMEOUT, then 503). apps/core/checks.py warns
when either would go wrong. No Django settings here: the launchers read this before Django
is set up.
"""

from __future__ import annotations

from resync_site.env import env_int

DEFAULT_WORKERS = 2  # one per core on the reference machine
# Measured on 2 cores (docs/performance-notes): 8 blocking threads per granian worker served
# the most; more only queue on the GIL and the pool.
DEFAULT_THREADS = 8


def server_workers() -> int:
    return env_int("WEB_CONCURRENCY", DEFAULT_WORKERS, minimum=1)


def server_threads() -> int:
    return env_int("RESYNC_SERVER_THREADS", DEFAULT_THREADS, minimum=1)
