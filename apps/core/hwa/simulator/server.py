"""A real HTTP server speaking the HWA REST calls of docs/hwa-api.md, for tests and demos.

Served calls (under /twsd, HTTP Basic auth, JSON, `messages` error bodies):

  v1  POST /twsd/plan/current/workstation/query     bare JSON array
      POST /twsd/plan/current/jobstream/query       bare JSON array
      POST /twsd/plan/current/job/query             bare JSON array
      GET  /twsd/plan/current/job/{id}              one job
      PUT  /twsd/plan/current/job/{id}/action/{rerun|hold|release|cancel}
  v2  GET  /twsd/api/v2/plan/jobstream              {"count": N, "results": [...]}
      GET  /twsd/api/v2/plan/job                    {"count": N, "results": [...]}
      GET  /twsd/api/v2/plan/job/{id}               one job
      PUT  /twsd/api/v2/plan/job/{id}/action/{rerun|hold|release|cancel}

PAGING (a documented assumption, shared with the client; see apps/core/hwa/client.py):
the `How-Many` request header caps a page (default 500, as in HCL's samples). When more
results remain, the response carries a `Next-Page` header holding an opaque token; the
client repeats the same request with a `Next-Page` request header set to that token. The
last page has no `Next-Page` header. In v2 the body's `count` is the total number of
matches, not the page size.

Unauthenticated control endpoints (simulator only) let tests flip faults at runtime:
  GET/POST /__simulator__/faults   read / partially update the fault switches (JSON)
  POST     /__simulator__/tick     {"count": n} advance the plan n ticks now
  GET      /__simulator__/stats    request counters;  POST /__simulator__/stats/reset

Every HWA call's `Request-Id` header is remembered (the last REQUEST_ID_MEMORY calls), so a
test can follow one id from Resync's API to HWA (`SimulatorServer.request_ids`), and when
it arrived (`SimulatorServer.request_log`: which processes' syncs came when).

Threads, listening, fault and control plumbing: apps/core/upstream/simulator.py.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import random
import re
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from apps.core.hwa.simulator.plan import (
    ActionRefused,
    SimulatorPlan,
    UnknownAction,
    UnknownJob,
)
from apps.core.upstream.simulator import (
    CONTROL_PREFIX,
    FaultSwitches,
    Simulator,
    SimulatorHandler,
    cut_short,
)

DEFAULT_HOW_MANY = 500
REQUEST_ID_MEMORY = 1000
MAX_HOW_MANY = 10_000

_JOB_ONE = re.compile(r"^/twsd/(?:plan/current|api/v2/plan)/job/([^/]+)$")
_JOB_ACTION = re.compile(r"^/twsd/(?:plan/current|api/v2/plan)/job/([^/]+)/action/([^/]+)$")


@dataclass(slots=True)
class Faults(FaultSwitches):
    """Fault switches; every field can be set at start and changed at runtime."""

    latency_ms: int = 0
    error_rate: float = 0.0
    malformed_json: bool = False
    wrong_credentials: bool = False
    refuse_connections: bool = False

    def check(self, name: str, kind: str, value: Any) -> None:
        if name == "latency_ms" and (not isinstance(value, int) or value < 0):
            raise ValueError("latency_ms must be a non-negative integer")
        if name == "error_rate" and not (isinstance(value, int | float) and 0 <= value <= 1):
            raise ValueError("error_rate must be between 0 and 1")


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One HWA call received: when (time.monotonic()), what, and its `Request-Id`."""

    at: float
    method: str
    path: str
    request_id: str


class SimulatorServer(Simulator):
    """The HWA simulator on a background thread; use as a context manager in tests."""

    thread_name = "hwa-simulator"
    base_path = "/twsd"

    def __init__(
        self,
        *,
        password: str,
        plan: SimulatorPlan | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "resync",
        faults: Faults | None = None,
        auto_tick: bool = False,
        fault_seed: int = 0,
    ) -> None:
        super().__init__(host=host, port=port, faults=faults or Faults())
        self.plan = plan or SimulatorPlan()
        self.username, self.password = username, password
        self.auto_tick = auto_tick
        self._fault_rng = random.Random(fault_seed)
        self._counts: Counter[tuple[str, str]] = Counter()
        self._request_ids: deque[LoggedRequest] = deque(maxlen=REQUEST_ID_MEMORY)
        self._counts_lock = threading.Lock()
        self._refuse_timer: threading.Timer | None = None

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> SimulatorServer:
        """Bind (port 0 picks a free port) and serve, and tick the plan, on background threads."""
        super().start()
        if self.auto_tick and self.plan.tick_seconds > 0:
            self._spawn(self._tick_loop)
        return self

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.plan.tick_seconds):
            self.plan.tick()

    def stop(self) -> None:
        if self._refuse_timer:
            self._refuse_timer.cancel()
        super().stop()

    # --- faults and counters --------------------------------------------------------------
    def refusing(self) -> bool:
        return self.faults.refuse_connections

    def apply_faults(self, changes: dict[str, Any]) -> None:
        """Also `refuse_connections_for_seconds`: refuse_connections_for over HTTP."""
        seconds = changes.pop("refuse_connections_for_seconds", None)
        self.set_faults(**changes)
        if seconds is not None:
            self.refuse_connections_for(float(seconds))

    def refuse_connections_for(self, seconds: float) -> None:
        """Stop listening now and listen again after `seconds` (usable over HTTP)."""
        self.set_faults(refuse_connections=True)
        if self._refuse_timer:
            self._refuse_timer.cancel()
        self._refuse_timer = threading.Timer(
            seconds, self.set_faults, kwargs={"refuse_connections": False}
        )
        self._refuse_timer.daemon = True
        self._refuse_timer.start()

    def roll_error(self) -> bool:
        """Does this request fail under the error-rate fault? (seeded, thread-safe)"""
        with self._fault_lock:
            rate = self.faults.error_rate
            return rate > 0 and self._fault_rng.random() < rate

    def count(self, method: str, path: str, request_id: str = "") -> None:
        with self._counts_lock:
            self._counts[(method, path)] += 1
            self._request_ids.append(LoggedRequest(time.monotonic(), method, path, request_id))

    def request_ids(self, method: str | None = None, path: str | None = None) -> list[str]:
        """The `Request-Id` of the latest HWA calls received, oldest first ("" if none sent)."""
        with self._counts_lock:
            return [
                logged.request_id
                for logged in self._request_ids
                if (method is None or logged.method == method)
                and (path is None or logged.path == path)
            ]

    def request_log(self) -> list[LoggedRequest]:
        """The latest HWA calls received (up to REQUEST_ID_MEMORY), oldest first."""
        with self._counts_lock:
            return list(self._request_ids)

    def request_count(self, method: str | None = None, path: str | None = None) -> int:
        """Requests received on /twsd (faulted ones included), optionally filtered."""
        with self._counts_lock:
            return sum(
                n
                for (m, p), n in self._counts.items()
                if (method is None or m == method) and (path is None or p == path)
            )

    def reset_counts(self) -> None:
        """Zero the request counters (and forget the request ids)."""
        with self._counts_lock:
            self._counts.clear()
            self._request_ids.clear()

    def stats(self) -> dict[str, Any]:
        with self._counts_lock:
            requests = {f"{m} {p}": n for (m, p), n in sorted(self._counts.items())}
        plan = self.plan
        return {
            "requests": requests,
            "ticks": plan.ticks,
            "jobs": len(plan.jobs),
            "now": plan.now.isoformat(),
        }

    def check_auth(self, header: str | None) -> bool:
        if self.faults.wrong_credentials or not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), self.username.encode()) & hmac.compare_digest(
            password.encode(), self.password.encode()
        )


class _Handler(SimulatorHandler):
    """Routes one HWA or control call."""

    server_version = "HWA-Simulator/1.0"

    @property
    def sim(self) -> SimulatorServer:
        return self.server.simulator

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        path, _, query = self.path.partition("?")
        body = self._read_body()
        if self.sim.faults.refuse_connections:
            # Connections accepted before the listener closed are dropped too.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if path.startswith(CONTROL_PREFIX):
            try:
                data = json.loads(body) if body else {}
            except ValueError as exc:
                self._problem(400, str(exc))
                return
            self._control(method, path.removeprefix(CONTROL_PREFIX), data)
            return
        self.sim.count(method, path, self.headers.get("Request-Id") or "")
        self._hwa(method, path, query, body)

    def _problem(self, status: int, message: str) -> None:
        self._messages(status, message)

    def _messages(self, status: int, *messages: str, **headers: str) -> None:
        self._send_json(status, {"messages": list(messages)}, headers)

    # --- HWA calls ----------------------------------------------------------------------
    def _hwa(self, method: str, path: str, query: str, body: bytes) -> None:
        self._delay()
        if not self.sim.check_auth(self.headers.get("Authorization")):
            self._messages(
                401,
                "Authentication failed: wrong user name or password",
                **{"WWW-Authenticate": 'Basic realm="HWA simulator"'},
            )
            return
        if self.sim.roll_error():
            status = random.choice((500, 503))
            self._messages(status, f"Simulated server error (HTTP {status})")
            return
        try:
            status, payload, headers = self._route(method, path, body)
        except UnknownJob as exc:
            self._messages(404, f"Job {exc.args[0]} not found in the current plan")
            return
        except UnknownAction as exc:
            self._messages(400, f"Unknown action {exc.args[0]!r}")
            return
        except ActionRefused as exc:
            self._messages(409, str(exc))
            return
        except LookupError:
            self._messages(404, f"No resource {method} {path}")
            return
        if self.sim.faults.malformed_json:
            payload = cut_short(payload)
        self._send(status, payload, headers)

    def _route(self, method: str, path: str, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        plan = self.sim.plan
        routes = {
            ("POST", "/twsd/plan/current/workstation/query"): lambda: self._list(
                plan.workstation_items(), "v1"
            ),
            ("POST", "/twsd/plan/current/jobstream/query"): lambda: self._list(
                plan.stream_items("v1"), "v1"
            ),
            ("GET", "/twsd/api/v2/plan/jobstream"): lambda: self._list(
                plan.stream_items("v2"), "v2"
            ),
            ("POST", "/twsd/plan/current/job/query"): lambda: self._jobs("v1"),
            ("GET", "/twsd/api/v2/plan/job"): lambda: self._jobs("v2"),
        }
        handler = routes.get((method, path))
        if handler:
            return handler()
        flavour = "v2" if path.startswith("/twsd/api/v2/") else "v1"
        if method == "GET" and (match := _JOB_ONE.match(path)):
            return 200, plan.job_one(match[1], flavour), {}
        if method == "PUT" and (match := _JOB_ACTION.match(path)):
            message = plan.act(match[1], match[2])
            return 200, json.dumps({"messages": [message]}).encode(), {}
        raise LookupError(path)

    def _window(self) -> tuple[int, int]:
        try:
            how_many = int(self.headers.get("How-Many") or DEFAULT_HOW_MANY)
            offset = int(self.headers.get("Next-Page") or 0)
        except ValueError:
            how_many, offset = DEFAULT_HOW_MANY, 0
        return max(0, offset), min(MAX_HOW_MANY, max(1, how_many))

    def _page_headers(self, offset: int, size: int, total: int) -> dict[str, str]:
        end = offset + size
        return {"Next-Page": str(end)} if end < total else {}

    def _list(self, items: list[dict[str, Any]], flavour: str) -> tuple[int, bytes, dict]:
        offset, limit = self._window()
        chunk = items[offset : offset + limit]
        data: Any = chunk if flavour == "v1" else {"count": len(items), "results": chunk}
        return 200, json.dumps(data).encode(), self._page_headers(offset, len(chunk), len(items))

    def _jobs(self, flavour: str) -> tuple[int, bytes, dict[str, str]]:
        offset, limit = self._window()
        parts, total = self.sim.plan.job_page(flavour, offset, limit)
        array = b"[" + b",".join(parts) + b"]"
        if flavour == "v2":
            array = b'{"count":%d,"results":%s}' % (total, array)
        return 200, array, self._page_headers(offset, len(parts), total)

    # --- control ------------------------------------------------------------------------
    def _control_more(self, method: str, path: str, data: dict[str, Any]) -> bool:
        if path == "/tick" and method == "POST":
            plan = self.sim.plan
            changed = plan.tick(int(data.get("count", 1)))
            self._send_json(200, {"ticks": plan.ticks, "changed": len(changed)})
            return True
        return False


# Set here, below the handler, so the module reads top-down: the simulator, then its routes.
SimulatorServer.handler = _Handler
