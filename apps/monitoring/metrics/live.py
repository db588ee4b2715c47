"""This process's live figures (cache, pools, HWA and model breakers) copied into metrics.

The cache engine, the pools and the breaker already keep their own counts; counting again
per request would cost every request. Instead `publish()` reads their statistics (no I/O:
in-memory counters under their locks) and brings the metrics up to date: gauges are set,
counters go up by what the source counted since the last publish (a source that restarted
from zero, such as a resized cache's shards, counts again from its new zero).

One process: `collect()` publishes right before reading, so a scrape sees the figures of
that instant. Several worker processes (PROMETHEUS_MULTIPROC_DIR): each process also
publishes every PUBLISH_EVERY_S from a daemon thread, started at its first request, so a
scrape answered by one worker sums every worker's figures, at most that old.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from prometheus_client import Counter, Gauge, values

from apps.monitoring.metrics import definitions as m

logger = logging.getLogger(__name__)

PUBLISH_EVERY_S = 5.0
PUBLISH_FAILED = "Publishing live metrics failed (tried again every %.0f s)"
BREAKER_STATES = ("closed", "open", "half_open")

_lock = threading.Lock()
_published: dict[tuple[str, tuple[str, ...]], float] = {}
_publisher_pid: int | None = None


def multiprocess() -> bool:
    """Does prometheus_client write to PROMETHEUS_MULTIPROC_DIR in this process?"""
    return bool(getattr(values.ValueClass, "_multiprocess", False))


def publish() -> None:
    """Copy this process's cache, pool and breaker figures into their metrics."""
    from apps.cache.selectors import cache_stats
    from apps.core.selectors.pools import pool_stats
    from apps.core.services.assistant_config import assistant_llm_client_peek
    from apps.core.services.hwa import hwa_client_peek

    with _lock:
        _publish_cache(cache_stats())
        _publish_pools(pool_stats()["pools"])
        _publish_breaker(m.HWA_BREAKER, hwa_client_peek())
        _publish_breaker(m.LLM_BREAKER, assistant_llm_client_peek())


def _count(counter: Counter, labels: tuple[str, ...], total: Any) -> None:
    """Bring counter{labels} up to `total`, a running count kept by the source."""
    if total is None:  # the source cannot measure it
        return
    key = (counter._name, labels)
    last = _published.get(key, 0.0)
    delta = total - last if total >= last else total
    child = counter.labels(*labels)  # the series exists from the first publish, at 0
    if delta:
        child.inc(delta)
    _published[key] = total


def _publish_cache(stats: dict[str, Any]) -> None:
    tiers = stats["tiers"]
    if "l1" in tiers:
        l1 = tiers["l1"]["total"]
        _count(m.CACHE_HITS, ("l1",), l1["hits"])
        _count(m.CACHE_MISSES, ("l1",), l1["misses"])
        _count(m.CACHE_EXPIRATIONS, ("l1",), l1["expirations"])
        _count(m.CACHE_EVICTIONS, ("l1", "memory"), l1["evictions_memory"])
        _count(m.CACHE_EVICTIONS, ("l1", "entries"), l1["evictions_entries"])
        m.CACHE_ENTRIES.labels("l1").set(l1["entries"])
        m.CACHE_BYTES.labels("l1").set(l1["bytes"])
    if "l2" in tiers:
        l2 = tiers["l2"]
        _count(m.CACHE_HITS, ("l2",), l2["hits"])
        _count(m.CACHE_MISSES, ("l2",), l2["misses"])
        _count(m.CACHE_ERRORS, ("l2",), l2["errors"])


def _publish_pools(pools: dict[str, dict[str, Any]]) -> None:
    for name, figures in pools.items():
        for gauge, field in ((m.POOL_SIZE, "size"), (m.POOL_IN_USE, "in_use")):
            if figures.get(field) is not None:
                gauge.labels(name).set(figures[field])
        if figures.get("waiting") is not None:
            m.POOL_WAITING.labels(name).set(figures["waiting"])
        _count(m.POOL_ACQUISITIONS, (name,), figures.get("acquisitions"))
        _count(m.POOL_EXHAUSTIONS, (name,), figures.get("exhaustions"))
    outage = pools.get("database", {}).get("outage")
    m.DATABASE_UNAVAILABLE.set(1 if outage and outage["database_down"] else 0)


def _publish_breaker(gauge: Gauge, client: Any) -> None:
    """One 1 in the state of the client's breaker (all 0 before the process built one)."""
    state = client.breaker.snapshot().state if client is not None else None
    for candidate in BREAKER_STATES:
        gauge.labels(candidate).set(1 if candidate == state else 0)


def ensure_publisher() -> None:
    """Start this process's publishing thread if several processes share the metrics and
    it is not running yet (a forked worker does not inherit its parent's threads)."""
    global _publisher_pid
    pid = os.getpid()
    if _publisher_pid == pid or not multiprocess():
        return
    with _lock:
        if _publisher_pid == pid:
            return
        _publisher_pid = pid
        _published.clear()  # a fork's counters start from zero in its own file
    threading.Thread(target=_publish_forever, name="metrics-publisher", daemon=True).start()


def _publish_forever() -> None:
    failing = False
    while True:
        time.sleep(PUBLISH_EVERY_S)
        try:
            publish()
            failing = False
        except Exception:  # a metrics bug must never take the worker down
            if not failing:
                logger.exception(PUBLISH_FAILED, PUBLISH_EVERY_S)
            failing = True
