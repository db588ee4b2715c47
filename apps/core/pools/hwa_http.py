"""The HWA HTTP pool: httpx limits and timeouts from ConnectionPoolConfig 'hwa_http'.

This module does not own the process-wide HWA client (apps/core/services/hwa.py does):
whoever builds it reads the limits (`apps.core.selectors.pools.hwa_http_pool_limits`) and
subscribes to changes by appending a callable to `on_change` (called with the new limits
dict). To show its pool in the stats it calls `track_client(httpx_client)`.

Mapping: max_size -> max_connections and max_keepalive_connections (httpx keeps every
connection it may reuse), idle_timeout -> keepalive_expiry, connection_timeout -> the wait
for a free connection (httpx's pool timeout). The connect timeout is the HWA connection's
own `connect_timeout` (admin, HWA connections), not the pool row's. httpx has no minimum
size, lifetime or health check: min_size, max_lifetime, health_check_interval and
max_waiting do not apply.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

on_change: list[Callable[[dict[str, Any]], None]] = []
_lock = threading.Lock()
_values: dict[str, int] | None = None
_clients: weakref.WeakSet = weakref.WeakSet()


def limits_from(values: dict[str, int]) -> dict[str, Any]:
    return {
        "max_connections": values["max_size"],
        "max_keepalive_connections": values["max_size"],
        "keepalive_expiry": float(values["idle_timeout"]),
        "pool_timeout": float(values["connection_timeout"]),
    }


def applied_values() -> dict[str, int] | None:
    """The pool row values this process runs with (None before the first apply)."""
    return dict(_values) if _values is not None else None


def apply(values: dict[str, int], version: int) -> None:
    """Record the new values and tell every listener."""
    global _values
    with _lock:
        if _values == values:
            return
        _values = dict(values)
    # Also on the first apply: a client built before it may hold other limits.
    limits = limits_from(values)
    for listener in list(on_change):
        try:
            listener(limits)
        except Exception:  # one broken listener must not stop the others
            logger.exception("HWA HTTP pool listener %r failed", listener)


def track_client(client) -> None:
    """Show this httpx.Client's pool in /api/v1/pools/stats/."""
    _clients.add(client)


def stats() -> dict[str, Any]:
    clients = list(_clients)
    if not clients:
        return {"note": "No HWA HTTP client is tracked in this process (track_client): no figures."}
    size = idle = 0
    for client in clients:
        pool = getattr(getattr(client, "_transport", None), "_pool", None)
        for conn in list(getattr(pool, "connections", [])):
            size += 1
            idle += 1 if conn.is_idle() else 0
    return {
        "size": size,
        "in_use": size - idle,
        "idle": idle,
        "note": "httpx reports only its open connections; acquisition counts and waits "
        "are not measured for HWA HTTP.",
    }
