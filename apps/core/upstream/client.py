"""The resilient HTTP client HWA's and the model's clients share.

One pooled `httpx.Client` per settings, swapped live by `reconfigure` (calls in flight
finish on the old pool, which closes after the last); connect and read timeouts; the
circuit breaker of apps/core/breaker.py in front of every attempt; retries with exponential
backoff and full jitter, only for failures the subclass's `Failure` calls retryable; and a
module-level list of call observers per API, through which apps.monitoring times and
counts every exchange without the client knowing Prometheus.

A subclass builds its httpx client, names its observers, and turns the last `Failure` into
the typed error its callers catch; which attempts may be retried at all (HWA job actions,
a model call once it began) stays its decision.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar, Generic, Self, TypeVar

import httpx

from apps.core.breaker import BreakerSnapshot, CircuitBreaker

R = TypeVar("R")

CIRCUIT_OPEN_KIND = "circuit_open"
# Called after every HTTP exchange as (operation, seconds, failure kind or None), and with
# seconds None for a call the open breaker refused. Observers must be cheap and never raise.
CallObserver = Callable[[str, float | None, str | None], None]

JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientSettings:
    """What every upstream client is configured with; each API's settings add their own
    fields and set their own defaults (keyword-only, so they can)."""

    base_url: str
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 10.0
    breaker_threshold: int = 5
    breaker_cooloff: float = 30.0
    max_connections: int = 10

    def __post_init__(self) -> None:
        if min(self.connect_timeout, self.read_timeout) <= 0:
            raise ValueError("timeouts must be positive")


S = TypeVar("S", bound=ClientSettings)


@dataclass(slots=True)
class Failure(Exception):
    """One failed attempt, before the client turns it into a typed error for the caller.

    `kind` is "status" for an HTTP error answer, else the subclass's transport or body
    kinds; `retry_after` is the server's Retry-After when the client reads it.
    """

    # Which kinds and statuses are worth another attempt: each API decides.
    retryable_kinds: ClassVar[frozenset[str]] = frozenset()
    retryable_statuses: ClassVar[frozenset[int]] = frozenset()
    # Statuses counted under their own metric label rather than their class (http_4xx).
    labelled_statuses: ClassVar[frozenset[int]] = frozenset()

    kind: str
    reason: str
    status: int = 0
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return self.kind in self.retryable_kinds or self.status in self.retryable_statuses

    @property
    def unhealthy(self) -> bool:
        """Does this failure say the server is unwell (count against the breaker)? A coherent
        4xx refusal means it is up; 429 means it is overloaded."""
        return self.kind != "status" or self.status >= 500 or self.status == 429

    @property
    def metric_kind(self) -> str:
        """The failure as a bounded metric label: the kind, or http_4xx, http_5xx, ..."""
        if self.kind != "status":
            return self.kind
        if self.status in self.labelled_statuses:
            return f"http_{self.status}"
        return f"http_{self.status // 100}xx"


class _Pool:
    """An httpx.Client and the number of calls using it, so a retired one closes last."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.in_flight = 0
        self.retired = False


class ResilientClient(Generic[S]):
    """A thread-safe, pooled, breaker-guarded client of one upstream HTTP service."""

    # The API module's list, so its importers (apps.monitoring) keep one place to listen.
    call_observers: ClassVar[list[CallObserver]]
    # A call made after `close()` runs on a fresh pool, closed again after it (rather than
    # failing on a closed one), for owners that close a client others may still hold.
    reopen_when_closed: ClassVar[bool] = False

    def __init__(
        self,
        settings: S,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._settings = settings
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._breaker = breaker or CircuitBreaker(
            threshold=settings.breaker_threshold, cooloff=settings.breaker_cooloff
        )
        self._lock = threading.Lock()
        self._pool = _Pool(self._build_http(settings))

    def _build_http(self, settings: S) -> httpx.Client:
        raise NotImplementedError

    # --- lifecycle ----------------------------------------------------------------------
    @property
    def settings(self) -> S:
        """The settings in force."""
        return self._settings

    @property
    def breaker(self) -> CircuitBreaker:
        """The circuit breaker guarding every call (health and metrics read its snapshot)."""
        return self._breaker

    @property
    def http_client(self) -> httpx.Client:
        """The httpx client new calls use (pool statistics read it)."""
        return self._pool.client

    def reconfigure(self, settings: S) -> None:
        """Switch to new settings; calls in flight finish on the old pool, which then closes."""
        new = _Pool(self._build_http(settings))
        with self._lock:
            old, self._pool, self._settings = self._pool, new, settings
            self._retire(old)
        self._breaker.configure(
            threshold=settings.breaker_threshold, cooloff=settings.breaker_cooloff
        )

    def close(self) -> None:
        """Close the connection pool once the calls in flight (streams too) have ended."""
        with self._lock:
            self._retire(self._pool)

    def _retire(self, pool: _Pool) -> None:
        # Closed under the lock: a caller leasing at this moment never gets a pool being
        # closed under it.
        pool.retired = True
        if pool.in_flight == 0:
            pool.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _lease(self) -> Iterator[httpx.Client]:
        with self._lock:
            pool = self._pool
            if self.reopen_when_closed and pool.client.is_closed:
                pool = self._pool = _Pool(self._build_http(self._settings))
                pool.retired = True
            pool.in_flight += 1
        try:
            yield pool.client
        finally:
            with self._lock:
                pool.in_flight -= 1
                if pool.retired and pool.in_flight == 0:
                    pool.client.close()

    # --- attempts, retries and the breaker ----------------------------------------------
    def _observe(self, operation: str, seconds: float | None, failure: str | None) -> None:
        for observer in self.call_observers:
            observer(operation, seconds, failure)

    def _attempt(self, operation: str, send: Callable[[], R]) -> tuple[R, float]:
        """One exchange, and when it started; a failed one is timed and observed here (a
        success only once the caller knows the whole answer arrived)."""
        started = time.perf_counter()
        try:
            return send(), started
        except Failure as failure:
            self._observe(operation, time.perf_counter() - started, failure.metric_kind)
            raise

    def _retrying(
        self,
        operation: str,
        send: Callable[[], R],
        *,
        attempts: int,
        error: Callable[[Failure, int], Exception],
    ) -> tuple[R, float]:
        """`send` through the breaker, up to `attempts` times while its failures are
        retryable: the result and when its attempt started. Raises the circuit-open error,
        or `error(last failure, attempts made)`."""
        failure: Failure | None = None
        for attempt in range(1, attempts + 1):
            if failure is not None:
                self._sleep(self._backoff(attempt - 1, failure))
            if not self._breaker.try_acquire():
                if failure is not None:  # mid-retry, the real cause says more
                    break
                self._observe(operation, None, CIRCUIT_OPEN_KIND)
                raise self._circuit_open()
            try:
                return self._attempt(operation, send)
            except Failure as exc:
                failure = exc
                self._record(exc)
                if not exc.retryable or not self._may_wait(exc):
                    break
        assert failure is not None
        raise error(failure, attempt)

    def _may_wait(self, failure: Failure) -> bool:
        """A Retry-After longer than we would back off: give up now and pass it on."""
        return failure.retry_after is None or failure.retry_after <= self._settings.backoff_max

    def _backoff(self, retry: int, failure: Failure) -> float:
        # Full jitter spreads many callers' retries instead of synchronising them; the
        # server's Retry-After, when the client reads one, is a floor.
        settings = self._settings
        cap = min(settings.backoff_max, settings.backoff_base * 2 ** (retry - 1))
        return max(self._rng.uniform(0, cap), failure.retry_after or 0.0)

    def _record(self, failure: Failure) -> None:
        if failure.unhealthy:
            self._breaker.record_failure(failure.reason)
        else:
            self._breaker.record_success()  # the server answered coherently (401, 404, 400)

    def _suspension(self, template: str) -> tuple[str, int, BreakerSnapshot]:
        """The open breaker's message (`template` takes failures and retry_after), its
        Retry-After in whole seconds, and the snapshot they were read from."""
        snap = self._breaker.snapshot()
        retry_after = max(1, math.ceil(snap.retry_after))
        detail = template.format(failures=snap.consecutive_failures, retry_after=retry_after)
        return detail, retry_after, snap

    def _circuit_open(self) -> Exception:
        raise NotImplementedError
