"""A real HTTP server speaking the OpenAI chat-completions API, scripted (script.py).

Served calls (JSON; an error is {"error": {"message", "type", "code"}} as OpenAI sends):

  POST /v1/chat/completions   {model, messages, tools?, stream?, max_tokens?, ...}
                              whole answer, or SSE "data: {chunk}" lines then "data: [DONE]"
  GET  /v1/models             {"object": "list", "data": [{"id": <model>, ...}]}

Unauthenticated control endpoints (simulator only) switch faults at run time:
  GET/POST /__simulator__/faults   read / partially update the fault switches (JSON)
  GET      /__simulator__/stats    requests counted by path, and the last requests' bodies
  POST     /__simulator__/stats/reset

When started with an api_key, a call without "Authorization: Bearer <that key>" gets 401.

Threads, listening, fault and control plumbing: apps/core/upstream/simulator.py.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from apps.core.assistant.llm.simulator.script import UNKNOWN_TOOL, Step, respond
from apps.core.upstream.simulator import (
    CONTROL_PREFIX,
    FaultSwitches,
    Simulator,
    SimulatorHandler,
    cut_short,
)

DEFAULT_MODEL = "resync-simulator"
REQUEST_MEMORY = 50
ERROR_STATUSES = (0, 400, 401, 404, 429, 500, 502, 503, 504)


@dataclass(slots=True)
class Faults(FaultSwitches):
    """Fault switches; every field can be set at start and changed at run time.

    error_status: answer every chat call with this HTTP status (0: none); error_count > 0
    limits it to the next that many calls, then it clears itself. retry_after: the
    Retry-After header (seconds) sent with 429 and 503. malformed_json: a body (or stream
    chunk) that is not JSON. bad_arguments: tool calls whose arguments are not JSON.
    unknown_tool: tool calls name a tool nobody offered. gullible: obey instructions found
    in tool results (prompt injection through the data).
    """

    latency_ms: int = 0
    error_status: int = 0
    error_count: int = 0
    retry_after: int = 1
    malformed_json: bool = False
    bad_arguments: bool = False
    unknown_tool: bool = False
    gullible: bool = True

    def check(self, name: str, kind: str, value: Any) -> None:
        if kind == "int" and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ValueError(f"{name} must be a non-negative integer")

    def validate(self, changes: dict[str, Any]) -> None:
        super(Faults, self).validate(changes)  # two-argument: slots=True makes a new class
        if changes.get("error_status", 0) not in ERROR_STATUSES:
            raise ValueError(f"error_status must be one of {ERROR_STATUSES}")


class LlmSimulator(Simulator):
    """The simulated model on a background thread; use as a context manager in tests."""

    thread_name = "llm-simulator"
    base_path = "/v1"
    backlog = 64

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = DEFAULT_MODEL,
        api_key: str = "",
        faults: Faults | None = None,
    ) -> None:
        super().__init__(host=host, port=port, faults=faults or Faults())
        self.model, self.api_key = model, api_key
        self._lock = threading.Lock()  # the counters
        self._counts: Counter[str] = Counter()
        self._requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_MEMORY)

    # --- faults and bookkeeping -----------------------------------------------------------
    def take_error(self) -> int:
        """The status this call must fail with (0: none), counting down error_count."""
        with self._fault_lock:
            status = self.faults.error_status
            if status and self.faults.error_count:
                self.faults.error_count -= 1
                if self.faults.error_count == 0:
                    self.faults.error_status = 0
            return status

    def record(self, path: str, body: Any, authorization: str | None) -> None:
        with self._lock:
            self._counts[path] += 1
            self._requests.append(
                {"path": path, "body": body, "authorized": authorization is not None}
            )

    def request_count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(n for p, n in self._counts.items() if path is None or p == path)

    def requests(self) -> list[dict[str, Any]]:
        """The last requests received (path, JSON body, whether Authorization was sent)."""
        with self._lock:
            return list(self._requests)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
            self._requests.clear()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": dict(self._counts), "last": list(self._requests)[-5:]}

    def authorized(self, header: str | None) -> bool:
        if not self.api_key:
            return True
        given = (header or "").removeprefix("Bearer ").encode()
        return header is not None and hmac.compare_digest(given, self.api_key.encode())


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)  # the usual rule of thumb: ~4 characters a token


class _Handler(SimulatorHandler):
    server_version = "LLM-Simulator/1.0"

    @property
    def sim(self) -> LlmSimulator:
        return self.server.simulator

    def _dispatch(self, method: str) -> None:
        path = self.path.partition("?")[0]
        raw = self._read_body()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            self._error(400, "The request body is not JSON", "invalid_request_error")
            return
        if path.startswith(CONTROL_PREFIX):
            self._control(method, path.removeprefix(CONTROL_PREFIX), body)
            return
        self.sim.record(path, body, self.headers.get("Authorization"))
        if not self.sim.authorized(self.headers.get("Authorization")):
            self._error(401, "Incorrect API key provided", "invalid_api_key")
            return
        if (method, path) == ("GET", "/v1/models"):
            self._models()
        elif (method, path) == ("POST", "/v1/chat/completions"):
            self._chat(body)
        else:
            self._error(404, f"No route {method} {path}", "not_found")

    def _problem(self, status: int, message: str) -> None:
        self._error(status, message, "not_found" if status == 404 else "invalid_request_error")

    def _error(self, status: int, message: str, code: str, **headers: str) -> None:
        error = {"message": message, "type": code, "code": code}
        self._send_json(status, {"error": error}, headers)

    # --- the API --------------------------------------------------------------------------
    def _models(self) -> None:
        model = {"id": self.sim.model, "object": "model", "created": 0, "owned_by": "resync"}
        self._send_json(200, {"object": "list", "data": [model]})

    def _chat(self, body: Any) -> None:
        self._delay()
        faults = self.sim.faults
        status = self.sim.take_error()
        if status:
            headers = {"Retry-After": str(faults.retry_after)} if status in (429, 503) else {}
            self._error(status, f"Simulated failure (HTTP {status})", "simulated", **headers)
            return
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            self._error(400, "'messages' must be a list of objects", "invalid_request_error")
            return
        tools = body.get("tools") if isinstance(body.get("tools"), list) else None
        step = respond(messages, tools, gullible=faults.gullible)
        if faults.unknown_tool:
            step = Step(tool_calls=[{"name": UNKNOWN_TOOL, "arguments": {"confirm": True}}])
        calls = [self._tool_call(c, faults.bad_arguments) for c in step.tool_calls]
        prompt_tokens = _tokens(json.dumps(messages))
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(step, calls, prompt_tokens, include_usage)
        else:
            self._whole(step, calls, prompt_tokens)

    def _tool_call(self, call: dict[str, Any], bad_arguments: bool) -> dict[str, Any]:
        arguments = json.dumps(call["arguments"])
        if bad_arguments:
            arguments = arguments[:-1] + ", status: Error"  # cut short, unquoted: not JSON
        return {
            "id": f"call_{uuid.uuid4().hex[:12]}",
            "type": "function",
            "function": {"name": call["name"], "arguments": arguments},
        }

    def _completion(self, kind: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": kind,
            "created": int(time.time()),
            "model": self.sim.model,
        }

    def _whole(self, step: Step, calls: list[dict[str, Any]], prompt_tokens: int) -> None:
        message: dict[str, Any] = {"role": "assistant", "content": step.content}
        if calls:
            message["tool_calls"] = calls
        written = step.content or json.dumps(calls)
        data = {
            **self._completion("chat.completion"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if calls else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": _tokens(written),
                "total_tokens": prompt_tokens + _tokens(written),
            },
        }
        body = json.dumps(data).encode()
        if self.sim.faults.malformed_json:
            body = cut_short(body)
        self._send(200, body)

    def _stream(
        self,
        step: Step,
        calls: list[dict[str, Any]],
        prompt_tokens: int,
        include_usage: bool,
    ) -> None:
        # No Content-Length: the stream ends when the connection closes, as SSE allows.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        base = self._completion("chat.completion.chunk")
        with contextlib.suppress(OSError):
            for chunk in self._chunks(step, calls):
                self._event(json.dumps({**base, "choices": [chunk]}))
                if self.sim.faults.malformed_json:
                    self._event('{"choices": [{"delta": {"content": "cut sh')
                    return
            if include_usage:
                written = _tokens(step.content or json.dumps(calls))
                usage = {"prompt_tokens": prompt_tokens, "completion_tokens": written}
                self._event(json.dumps({**base, "choices": [], "usage": usage}))
            self._event("[DONE]")

    def _chunks(self, step: Step, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        chunks: list[dict[str, Any]] = [{"index": 0, "delta": {"role": "assistant"}}]
        if step.content:
            for position, word in enumerate(step.content.split(" ")):
                piece = f" {word}" if position else word
                chunks.append({"index": 0, "delta": {"content": piece}})
        for index, call in enumerate(calls):
            arguments = call["function"]["arguments"]
            half = len(arguments) // 2
            first = {**call, "index": index, "function": {"name": call["function"]["name"]}}
            first["function"]["arguments"] = arguments[:half]
            rest = {"index": index, "function": {"arguments": arguments[half:]}}
            chunks.append({"index": 0, "delta": {"tool_calls": [first]}})
            chunks.append({"index": 0, "delta": {"tool_calls": [rest]}})
        finish = "tool_calls" if calls else "stop"
        chunks.append({"index": 0, "delta": {}, "finish_reason": finish})
        return chunks

    def _event(self, data: str) -> None:
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()


# Set here, below the handler, so the module reads top-down: the simulator, then its routes.
LlmSimulator.handler = _Handler
