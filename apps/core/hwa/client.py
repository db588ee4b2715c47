"""The HWA REST client: pooled httpx, timeouts, retries with backoff, a circuit breaker.

The pool, timeouts, backoff, breaker and call observers are the shared plumbing of
apps/core/upstream/client.py; this module keeps HWA's calls, paging and errors. One
`httpx.Client` is built from `HwaClientSettings` and reused for every call (Basic auth,
JSON headers). Every call sends a `Request-Id` header (as HCL's samples do): the id of the
request or sync run it serves (apps.core.middleware), so an API call, its log lines, its
audit rows and the HWA calls it made share one id (a new uuid outside of both). Every call
has connect and read timeouts and goes through the circuit breaker. Queries and GETs are
idempotent and retried on timeouts, transport errors and 5xx/429 with exponential backoff and
full jitter; job actions (rerun, hold, release, cancel) are never retried, since a lost
answer does not mean the action did not happen. HWA's `messages` error bodies become the
typed errors of `errors`.

PAGING. Public sources (HCL's TWS_REST_API_Python_samples, the 10.2.x docs) confirm only
the `How-Many` request header, which caps the number of results (default 500); none shows
how to fetch what lies beyond it. Resync therefore uses one documented scheme, shared with
the bundled simulator: when more results remain, the answer carries a `Next-Page` header
with an opaque token, and the client repeats the same request with a `Next-Page` request
header set to that token; the last page has no `Next-Page`. Against an HWA that ignores
`Next-Page` a listing is one page of `How-Many` results, so set `page_size` above the plan
size there. `iter_*` yield `Page`s; a listing is complete only once the page with `is_last=True` has
arrived (the sync fetches every page first, then applies the whole plan in one transaction).

ENDPOINTS. v1: POST /plan/current/{workstation,jobstream,job}/query, GET
/plan/current/job/{id}, PUT /plan/current/job/{id}/action/rerun (HCL samples). v2:
GET /api/v2/plan/{job,jobstream}[/{id}] (10.2.x docs). Unconfirmed and assumed: the
hold/release/cancel actions as PUT .../job/{id}/action/{action} in both flavours, and
workstations in v2 (no v2 endpoint is documented, so the v1 query is used).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import orjson

from apps.core.hwa import errors
from apps.core.hwa.errors import (
    HwaAuthError,
    HwaError,
    HwaNotFound,
    HwaProtocolError,
    HwaRefused,
    HwaServerError,
    HwaTimeout,
    HwaUnavailable,
)
from apps.core.hwa.parsing import (
    RecordMemo,
    decode_listing,
    list_items,
    parse_job,
    parse_stream,
    parse_workstation,
)
from apps.core.hwa.types import (
    JOB_ACTIONS,
    ActionResult,
    ConnectionCheck,
    Flavour,
    JobAction,
    JobRecord,
    JobStreamRecord,
    Page,
    WorkstationRecord,
)
from apps.core.middleware import NO_REQUEST_ID, current_request_id, new_request_id
from apps.core.upstream.client import (
    JSON_HEADERS,
    CallObserver,
    ClientSettings,
    Failure,
    ResilientClient,
)

T = TypeVar("T")

NEXT_PAGE_HEADER = "Next-Page"
CONNECTED = "Connected to HWA at {url} as {username} (API {flavour})"
UNKNOWN_ACTION = "Unknown job action {action!r}; expected one of rerun, hold, release, cancel"
PAGING_STUCK = "the Next-Page token did not advance"

# Told of every HTTP exchange with HWA (upstream.client.CallObserver): apps.monitoring's
# metrics listen here, so the client itself knows nothing of Prometheus.
call_observers: list[CallObserver] = []


@dataclass(frozen=True, slots=True, kw_only=True)
class HwaClientSettings(ClientSettings):
    """Everything the client needs; the pool and timeout fields can change live."""

    username: str
    password: str
    verify_tls: bool = True
    page_size: int = 1000
    flavour: Flavour = "v1"
    max_keepalive_connections: int = 5
    keepalive_expiry: float = 30.0
    pool_timeout: float | None = None  # wait for a free connection; None: connect_timeout

    def __post_init__(self) -> None:
        if self.flavour not in ("v1", "v2"):
            raise ValueError("flavour must be 'v1' or 'v2'")
        if self.page_size < 1 or self.max_retries < 0 or self.max_connections < 1:
            raise ValueError("page_size and max_connections must be >= 1, max_retries >= 0")
        # Two-argument super(): slots=True makes a new class, unknown to the bare form.
        super(HwaClientSettings, self).__post_init__()


@dataclass(slots=True)
class _Failure(Failure):
    """One failed attempt: timeout | unreachable | status | malformed, and HWA's messages."""

    # Queries are idempotent, so anything that says "HWA is unwell, try again" is retried
    # (job actions are never retried at all: see HwaClient.job_action).
    retryable_kinds = frozenset({"timeout", "unreachable"})
    retryable_statuses = frozenset({429, 500, 502, 503, 504})

    messages: tuple[str, ...] = ()


def _request_id() -> str:
    current = current_request_id()
    return current if current != NO_REQUEST_ID else new_request_id()


def _messages_of(response: httpx.Response) -> tuple[str, ...]:
    try:
        data = response.json()
    except ValueError:
        return ()
    messages = data.get("messages") if isinstance(data, dict) else None
    return tuple(str(m) for m in messages) if isinstance(messages, list) else ()


class HwaClient(ResilientClient[HwaClientSettings]):
    """A thread-safe client for the HWA plan REST API (v1 or v2 flavour)."""

    call_observers = call_observers

    def __init__(self, settings: HwaClientSettings, **options: Any) -> None:
        super().__init__(settings, **options)
        # One per listing, kept for the process's life: an item whose JSON text did not
        # change since the last complete listing is not parsed again (parsing.RecordMemo).
        self._memos: dict[str, RecordMemo[Any]] = {}

    def _build_http(self, settings: HwaClientSettings) -> httpx.Client:
        return httpx.Client(
            base_url=settings.base_url.rstrip("/"),
            auth=httpx.BasicAuth(settings.username, settings.password),
            headers=JSON_HEADERS,
            verify=settings.verify_tls,
            timeout=httpx.Timeout(
                settings.read_timeout,
                connect=settings.connect_timeout,
                pool=settings.pool_timeout or settings.connect_timeout,
            ),
            limits=httpx.Limits(
                max_connections=settings.max_connections,
                max_keepalive_connections=settings.max_keepalive_connections,
                keepalive_expiry=settings.keepalive_expiry,
            ),
        )

    # --- public calls -------------------------------------------------------------------
    def iter_workstations(self) -> Iterator[Page[WorkstationRecord]]:
        """All plan workstations, page by page (v1 query in both flavours: see docstring)."""
        return self._pages(
            "POST",
            "/plan/current/workstation/query",
            parse_workstation,
            body={"filters": {"workstationInPlanFilter": {}}},
            operation="list_workstations",
        )

    def iter_jobstreams(self) -> Iterator[Page[JobStreamRecord]]:
        """All job stream instances of the current plan, page by page."""
        if self._settings.flavour == "v2":
            return self._pages(
                "GET", "/api/v2/plan/jobstream", parse_stream, operation="list_jobstreams"
            )
        return self._pages(
            "POST",
            "/plan/current/jobstream/query",
            parse_stream,
            body={"filters": {"jobStreamInPlanFilter": {}}},
            operation="list_jobstreams",
        )

    def iter_jobs(self) -> Iterator[Page[JobRecord]]:
        """All job instances of the current plan, page by page."""
        if self._settings.flavour == "v2":
            return self._pages("GET", "/api/v2/plan/job", parse_job, operation="list_jobs")
        return self._pages(
            "POST",
            "/plan/current/job/query",
            parse_job,
            body={"filters": {"jobInPlanFilter": {}}},
            operation="list_jobs",
        )

    def get_job(self, hwa_id: str) -> JobRecord:
        """One job instance by its HWA id (HwaNotFound if HWA does not know it)."""
        data, _ = self._call("GET", self._job_path(hwa_id), idempotent=True, operation="get_job")
        return parse_job(data)

    def job_action(self, hwa_id: str, action: JobAction) -> ActionResult:
        """Forward rerun/hold/release/cancel to HWA once; never retried."""
        if action not in JOB_ACTIONS:
            raise ValueError(UNKNOWN_ACTION.format(action=action))
        path = f"{self._job_path(hwa_id)}/action/{action}"
        data, _ = self._call(
            "PUT", path, body={}, idempotent=False, allow_empty=True, operation=f"job_{action}"
        )
        messages = data.get("messages") if isinstance(data, dict) else None
        found = tuple(str(m) for m in messages) if isinstance(messages, list) else ()
        return ActionResult(hwa_id=hwa_id, action=action, messages=found)

    def test_connection(self) -> ConnectionCheck:
        """One un-retried call that bypasses the breaker: ok, or the exact failure text."""
        settings = self._settings
        method, path = (
            ("GET", "/api/v2/plan/job")
            if settings.flavour == "v2"
            else ("POST", "/plan/current/workstation/query")
        )
        operation = "test_connection"
        try:
            (data, _), started = self._attempt(
                operation, lambda: self._exchange(method, path, {"How-Many": "1"})
            )
            self._observe(operation, time.perf_counter() - started, None)
            list_items(data, path)
        except _Failure as failure:
            return ConnectionCheck(False, str(self._error(failure, method, path, 1)))
        except HwaError as exc:
            return ConnectionCheck(False, str(exc))
        detail = CONNECTED.format(
            url=settings.base_url, username=settings.username, flavour=settings.flavour
        )
        return ConnectionCheck(True, detail)

    def ping(self) -> bool:
        """Is HWA reachable with our credentials right now?"""
        return self.test_connection().ok

    # --- paging -------------------------------------------------------------------------
    def _job_path(self, hwa_id: str) -> str:
        prefix = "/api/v2/plan" if self._settings.flavour == "v2" else "/plan/current"
        return f"{prefix}/job/{quote(hwa_id, safe='')}"

    def _memo(self, operation: str, parse: Callable[[Any], T]) -> RecordMemo[T]:
        memo = self._memos.get(operation)
        if memo is None:
            memo = self._memos.setdefault(operation, RecordMemo(parse))
        return memo

    def _pages(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        body: dict[str, Any] | None = None,
        operation: str,
    ) -> Iterator[Page[T]]:
        memo = self._memo(operation, parse)
        seen: dict[bytes, T] = {}
        token: str | None = None
        number = 0
        while True:
            headers = {"How-Many": str(self._settings.page_size)}
            if token:
                headers[NEXT_PAGE_HEADER] = token
            data, next_token = self._call(
                method,
                path,
                body=body,
                headers=headers,
                idempotent=True,
                operation=operation,
                decode=decode_listing,
            )
            items = list_items(data, path)
            number += 1
            if next_token and (next_token == token or not items):
                # Guards against a server looping us forever on the same page.
                reason = PAGING_STUCK
                raise HwaProtocolError(errors.UNEXPECTED_SHAPE.format(path=path, reason=reason))
            try:
                records = memo.records(items, seen)
            except orjson.JSONDecodeError as exc:  # an item JSON only orjson rejects (1e999)
                detail = errors.MALFORMED_JSON.format(method=method, path=path, reason=exc)
                raise HwaProtocolError(detail) from None
            if not next_token:
                memo.complete(seen)
            yield Page(items=records, number=number, is_last=not next_token)
            if not next_token:
                return
            token = next_token

    # --- calls, retries and the breaker -------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool,
        allow_empty: bool = False,
        operation: str,
        decode: Callable[[bytes], Any] = orjson.loads,
    ) -> tuple[Any, str | None]:
        """Send with retries (idempotent only) through the breaker; JSON body and next token."""
        result, started = self._retrying(
            operation,
            lambda: self._exchange(method, path, headers, body, allow_empty, decode),
            attempts=self._settings.max_retries + 1 if idempotent else 1,
            error=lambda failure, attempts: self._error(failure, method, path, attempts),
        )
        self._observe(operation, time.perf_counter() - started, None)
        self._breaker.record_success()
        return result

    def _exchange(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None,
        body: dict[str, Any] | None = None,
        allow_empty: bool = False,
        decode: Callable[[bytes], Any] = orjson.loads,
    ) -> tuple[Any, str | None]:
        """One HTTP exchange: HWA's JSON answer and next-page token, or a `_Failure`."""
        request_headers = {"Request-Id": _request_id(), **(headers or {})}
        try:
            with self._lease() as http:
                response = http.request(method, path, headers=request_headers, json=body)
        except httpx.TimeoutException as exc:
            raise _Failure("timeout", f"{type(exc).__name__}: {exc}") from None
        except httpx.TransportError as exc:
            raise _Failure("unreachable", f"{type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            raise _Failure(
                "status",
                f"HTTP {response.status_code}",
                status=response.status_code,
                messages=_messages_of(response),
            )
        if allow_empty and not response.content.strip():
            return None, None
        try:
            # orjson (3-4x json's speed), or for listings parsing.decode_listing.
            data = decode(response.content)
        except ValueError as exc:
            raise _Failure("malformed", str(exc), status=response.status_code) from None
        return data, response.headers.get(NEXT_PAGE_HEADER)

    def _circuit_open(self) -> HwaUnavailable:
        detail, retry_after, snap = self._suspension(errors.CIRCUIT_OPEN)
        return HwaUnavailable(
            detail, retry_after=retry_after, extra={"last_error": snap.last_error}
        )

    def _error(self, failure: _Failure, method: str, path: str, attempts: int) -> HwaError:
        """The typed error the caller sees for the last failed attempt."""
        where = {"method": method, "path": path}
        messages = failure.messages
        if failure.kind == "timeout":
            detail = errors.TIMED_OUT.format(attempts=attempts, reason=failure.reason, **where)
            return HwaTimeout(detail)
        if failure.kind == "unreachable":
            detail = errors.UNREACHABLE.format(url=self._settings.base_url, reason=failure.reason)
            return HwaUnavailable(detail, retry_after=1)
        if failure.kind == "malformed":
            return HwaProtocolError(errors.MALFORMED_JSON.format(reason=failure.reason, **where))
        status = failure.status
        if status in (401, 403):
            detail = errors.AUTH_REJECTED.format(username=self._settings.username, status=status)
            return HwaAuthError(detail, messages=messages)
        if status == 404:
            return HwaNotFound(errors.NOT_FOUND.format(**where), messages=messages)
        if status in (429, 503):
            detail = errors.SERVER_FAILED.format(status=status, **where)
            return HwaUnavailable(detail, messages=messages, retry_after=1)
        if status >= 500:
            detail = errors.SERVER_FAILED.format(status=status, **where)
            return HwaServerError(detail, messages=messages)
        detail = errors.REFUSED.format(status=status, **where)
        return HwaRefused(detail, http_status=status, messages=messages)
