"""The HTTP server both bundled simulators (HWA's, the model's) are built on.

A `Simulator` serves its handler on background threads (port 0 picks a free port), with
fault switches that can be set at start and changed at run time, over HTTP too: the
unauthenticated control endpoints under CONTROL_PREFIX read and change the faults and read
and reset the request counters. A simulator can stop listening altogether (no socket at
all, so a client sees "connection refused") and listen again. Each subclass keeps only its
API: routes, authentication, its own faults and what it counts.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
import time
from dataclasses import asdict, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self

CONTROL_PREFIX = "/__simulator__"


def cut_short(body: bytes) -> bytes:
    """The malformed-JSON fault: a body cut short mid-way, as a proxy that drops the
    connection would leave it."""
    return body[: max(1, len(body) // 2)]


class FaultSwitches:
    """Validation shared by every simulator's fault switches (a dataclass subclass lists
    them); an update is checked whole before any switch changes."""

    __slots__ = ()

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update, validating names and ranges (ValueError otherwise)."""
        self.validate(changes)
        for name, value in changes.items():
            setattr(self, name, value)

    def validate(self, changes: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}")
            self.check(name, known[name], value)
            if known[name] == "bool" and not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")

    def check(self, name: str, kind: str, value: Any) -> None:
        """Raise ValueError if `value` cannot be switch `name` (of type `kind`)."""


class SimulatorHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that can stop listening (refuse connections) and resume."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.request_queue_size = simulator.backlog  # read by the listen() in __init__
        super().__init__(address, simulator.handler)
        self.simulator = simulator
        self._listening = True
        self._socket_lock = threading.Lock()

    def serve_until(self, stop: threading.Event) -> None:
        """Accept connections until `stop`; while refusing, no socket listens at all."""
        while not stop.is_set():
            refusing = self.simulator.refusing()
            with self._socket_lock:
                if refusing and self._listening:
                    self.socket.close()
                    self._listening = False
                elif not refusing and not self._listening:
                    self._relisten()
                listening, sock = self._listening, self.socket
            if not listening:
                stop.wait(0.02)
                continue
            with contextlib.suppress(OSError, ValueError):
                ready, _, _ = select.select([sock], [], [], 0.05)
                if ready:
                    self._handle_request_noblock()

    def _relisten(self) -> None:
        self.socket = socket.socket(self.address_family, self.socket_type)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(self.server_address)
        self.socket.listen(self.request_queue_size)
        self._listening = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out and hang up are expected here; keep test output quiet.
        pass

    def close_listener(self) -> None:
        with self._socket_lock:
            if self._listening:
                self.socket.close()
                self._listening = False


class Simulator:
    """A simulated upstream on background threads; use as a context manager in tests."""

    handler: ClassVar[type[SimulatorHandler]]
    thread_name: ClassVar[str]
    base_path: ClassVar[str]  # what the client's base URL adds to the server root
    backlog: ClassVar[int] = 128

    def __init__(self, *, host: str, port: int, faults: FaultSwitches) -> None:
        self.host, self.port = host, port
        self.faults: Any = faults  # the subclass's Faults dataclass
        self._fault_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server: SimulatorHTTPServer | None = None

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> Self:
        """Bind (port 0 picks a free port) and serve on background threads."""
        self._stop.clear()
        self._server = SimulatorHTTPServer((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._spawn(self._server.serve_until, self._stop)
        return self

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=self.thread_name)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Stop accepting, close the listening socket and join the background threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._server:
            self._server.close_listener()
        self._threads.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The server root, e.g. http://127.0.0.1:40123."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The base URL a client is configured with."""
        return f"{self.url}{self.base_path}"

    # --- faults and counters --------------------------------------------------------------
    def set_faults(self, **changes: Any) -> None:
        """Change fault switches (same names as the subclass's `Faults`)."""
        with self._fault_lock:
            self.faults.update(changes)

    def apply_faults(self, changes: dict[str, Any]) -> None:
        """POST /__simulator__/faults: a partial update of the switches."""
        self.set_faults(**changes)

    def refusing(self) -> bool:
        """Should no socket listen now (the refuse-connections fault)?"""
        return False

    def stats(self) -> dict[str, Any]:
        raise NotImplementedError

    def reset_counts(self) -> None:
        raise NotImplementedError


class SimulatorHandler(BaseHTTPRequestHandler):
    """A simulator's request plumbing; HTTP/1.1 keep-alive so a client's pool reuses
    connections. A subclass routes (`_dispatch`) and renders its API's errors (`_problem`)."""

    protocol_version = "HTTP/1.1"
    # Headers and body are written separately: with Nagle's algorithm on, the client's
    # delayed ACK held every keep-alive response back for about 40 ms.
    disable_nagle_algorithm = True
    server: SimulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        raise NotImplementedError

    def _problem(self, status: int, message: str) -> None:
        """An error answer in the API's own error body."""
        raise NotImplementedError

    # --- plumbing -----------------------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers)

    def _delay(self) -> None:
        """The latency fault."""
        if latency_ms := self.server.simulator.faults.latency_ms:
            time.sleep(latency_ms / 1000)

    # --- control ------------------------------------------------------------------------
    def _control(self, method: str, path: str, data: Any) -> None:
        """A control call (`path` without CONTROL_PREFIX): faults, stats, the subclass's."""
        sim = self.server.simulator
        try:
            if not isinstance(data, dict):
                raise ValueError("the body must be a JSON object")
            if self._control_more(method, path, data):
                return
            if path == "/faults" and method == "POST":
                sim.apply_faults(data)
            elif path == "/stats/reset" and method == "POST":
                sim.reset_counts()
            elif not (method == "GET" and path in ("/faults", "/stats")):
                self._problem(404, f"No control endpoint {method} {path}")
                return
        except ValueError as exc:
            self._problem(400, str(exc))
            return
        self._send_json(200, sim.stats() if path.startswith("/stats") else asdict(sim.faults))

    def _control_more(self, method: str, path: str, data: dict[str, Any]) -> bool:
        """The subclass's own control calls; True when it answered this one."""
        return False
