"""Resync's metric objects: every name, label and bucket in one place.

Names follow Prometheus conventions: `resync_` prefix, base units (seconds, bytes), `_total`
on counters (prometheus_client adds it). Labels take bounded values only: a route template
(never the raw path), a method, a status class, a tier, a pool, an HWA or model operation.

Gauges carry a multiprocess mode, used when several worker processes share
PROMETHEUS_MULTIPROC_DIR: "livesum" adds up the live processes (a dead worker's connections
are not open any more), counters add up every process that ever counted.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# One `_created` series per label set would double the series for no reader of ours.
disable_created_metrics()

# 1 ms to 10 s: a cached read is a few ms, a cold list tens to hundreds, a timeout seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# --- HTTP (counted per request by the middleware) ---------------------------------------
HTTP_REQUESTS = Counter(
    "resync_http_requests_total",
    "HTTP requests answered, by route template, method and status class (2xx..5xx).",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "resync_http_request_duration_seconds",
    "Time from the request entering Django to its response leaving, by route and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)

# --- Cache (this process's figures, published by live.publish) --------------------------
CACHE_HITS = Counter("resync_cache_hits_total", "Cache lookups that found a value.", ["tier"])
CACHE_MISSES = Counter("resync_cache_misses_total", "Cache lookups that found none.", ["tier"])
CACHE_EVICTIONS = Counter(
    "resync_cache_evictions_total",
    "Entries the memory tier evicted to stay within its bounds (reason: memory or entries).",
    ["tier", "reason"],
)
CACHE_EXPIRATIONS = Counter(
    "resync_cache_expirations_total", "Entries dropped because their TTL passed.", ["tier"]
)
CACHE_ERRORS = Counter(
    "resync_cache_errors_total", "Failed calls to the Redis tier (served from memory).", ["tier"]
)
CACHE_ENTRIES = Gauge(
    "resync_cache_entries",
    "Entries held by the memory tier.",
    ["tier"],
    multiprocess_mode="livesum",
)
CACHE_BYTES = Gauge(
    "resync_cache_memory_bytes",
    "Bytes held by the memory tier (keys and stored values).",
    ["tier"],
    multiprocess_mode="livesum",
)

# --- Connection pools (database, redis, hwa_http) ---------------------------------------
POOL_SIZE = Gauge(
    "resync_pool_size", "Open connections in the pool.", ["pool"], multiprocess_mode="livesum"
)
POOL_IN_USE = Gauge(
    "resync_pool_in_use", "Connections lent out now.", ["pool"], multiprocess_mode="livesum"
)
POOL_WAITING = Gauge(
    "resync_pool_waiting",
    "Callers waiting for a connection now.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_ACQUISITIONS = Counter(
    "resync_pool_acquisitions_total", "Connections handed out by the pool.", ["pool"]
)
POOL_EXHAUSTIONS = Counter(
    "resync_pool_exhaustions_total",
    "Waits for a connection that timed out or were refused (pool exhausted).",
    ["pool"],
)
DATABASE_UNAVAILABLE = Gauge(
    "resync_database_unavailable",
    "1 while a process's breaker holds PostgreSQL for down (requests get 503 at once).",
    multiprocess_mode="livemax",
)

# --- HWA ---------------------------------------------------------------------------------
HWA_DURATION = Histogram(
    "resync_hwa_request_duration_seconds",
    "One HTTP exchange with HWA (each retry counts), by operation, failed ones included.",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
HWA_ERRORS = Counter(
    "resync_hwa_errors_total",
    "Failed HWA exchanges, by operation and kind (timeout, unreachable, malformed, "
    "http_4xx, http_5xx, circuit_open: refused at once by the open breaker).",
    ["operation", "kind"],
)
HWA_BREAKER = Gauge(
    "resync_hwa_circuit_breaker_state",
    "Processes whose HWA circuit breaker is in this state (closed, open, half_open).",
    ["state"],
    multiprocess_mode="livesum",
)


def hwa_call_observed(operation: str, seconds: float | None, failure: str | None) -> None:
    """apps.core.hwa.client's call observer: one exchange's time, and its failure if any."""
    if seconds is not None:
        HWA_DURATION.labels(operation).observe(seconds)
    if failure is not None:
        HWA_ERRORS.labels(operation, failure).inc()


# --- The assistant's model ---------------------------------------------------------------
# Model answers take seconds to minutes, so the buckets reach further than the HWA ones.
LLM_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
LLM_DURATION = Histogram(
    "resync_llm_request_duration_seconds",
    "One call to the assistant's model (each retry counts; a stream until its end), by "
    "operation (chat, chat_stream), failed ones included.",
    ["operation"],
    buckets=LLM_BUCKETS,
)
LLM_ERRORS = Counter(
    "resync_llm_errors_total",
    "Failed calls to the assistant's model, by operation and kind (connect, timeout, "
    "dropped, not_json, bad_output, http_4xx, http_429, http_5xx, circuit_open).",
    ["operation", "kind"],
)
LLM_TOKENS = Counter(
    "resync_llm_tokens_total",
    "Tokens the model reported using, by kind (prompt, completion).",
    ["kind"],
)
LLM_BREAKER = Gauge(
    "resync_llm_circuit_breaker_state",
    "Processes whose model circuit breaker is in this state (closed, open, half_open).",
    ["state"],
    multiprocess_mode="livesum",
)


def llm_call_observed(operation: str, seconds: float | None, failure: str | None) -> None:
    """apps.core.assistant.llm.client's call observer: one call's time, and its failure."""
    if seconds is not None:
        LLM_DURATION.labels(operation).observe(seconds)
    if failure is not None:
        LLM_ERRORS.labels(operation, failure).inc()


def llm_usage_observed(prompt_tokens: int, completion_tokens: int) -> None:
    """The client's usage observer: the tokens of one answer."""
    LLM_TOKENS.labels("prompt").inc(prompt_tokens)
    LLM_TOKENS.labels("completion").inc(completion_tokens)
