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
# Measured on 2 cores (python -m tests.bench.serving --threads N --rounds 3, 2026-11-28): on
# cache hits 4 and 8 blocking threads per granian worker serve about the same (8,363 and
# 8,124 req/s; p99 at 256 connections 56 and 63 ms); more only queue on the GIL and the pool.
# 8, because a thread waiting on PostgreSQL, HWA or the assistant's model holds no GIL, and
# with 4 a few slow upstream calls would leave cache hits waiting behind them.
DEFAULT_THREADS = 8


def server_workers() -> int:
    return env_int("WEB_CONCURRENCY", DEFAULT_WORKERS, minimum=1)


def server_threads() -> int:
    return env_int("RESYNC_SERVER_THREADS", DEFAULT_THREADS, minimum=1)
