"""The client for an OpenAI-compatible chat-completions endpoint (Ollama, vLLM, llama.cpp,
a hosted model, or the bundled simulator).

Wire format: POST {base_url}/chat/completions with model, messages, tools
([{"type": "function", "function": {name, description, parameters}}]), max_tokens,
temperature and stream; the answer's choices[0].message holds content and tool_calls
([{id, type, function: {name, arguments (a JSON string)}}]), with finish_reason and usage.
Streaming is server-sent events: "data: {chunk}" lines whose choices[0].delta carries a
piece of content or of a tool call, ending with "data: [DONE]". `Authorization: Bearer`
is sent only when an API key is configured; the key is never logged or put in an error.

RESILIENCE, shared with the HWA client (apps/core/upstream/client.py): one pooled
`httpx.Client`, connect and read timeouts, and the circuit breaker (apps/core/breaker.py)
in front of every call. A model call has no side effects but costs time and tokens, so it is
retried only when the model certainly did not work on it: the connection could not be
opened, or the server answered 429 or 503 (overloaded, try later; its Retry-After is
honoured up to `backoff_max`). A read timeout, a 500 or a connection dropped mid-answer is
not retried: the model may have spent its whole budget already, and a retry would double
the user's wait. A stream is retried only before its first byte; once text has been
yielded the caller owns it, so a later failure ends the stream with an error.

ERRORS (apps/core/assistant/llm/errors.py): unreachable, timeouts, 5xx, 429 and an open
breaker are `LlmUnavailableError` (503 with Retry-After); a body that is not the
chat-completions shape, or tool-call arguments that are not JSON, `LlmBadOutputError`
(502); other refusals (401 bad key, 404 unknown model, 400 prompt too long) `LlmError`
(502) naming the model's message. Only transport failures, 5xx, 429 and bodies that are
not JSON count against the breaker; a coherent refusal or a bad tool call means the
server is up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from apps.core.assistant.llm import errors
from apps.core.assistant.llm.errors import LlmBadOutputError, LlmError, LlmUnavailableError
from apps.core.upstream.client import (
    JSON_HEADERS,
    CallObserver,
    ClientSettings,
    Failure,
    ResilientClient,
)

CHAT_PATH = "/chat/completions"
MODELS_PATH = "/models"
SSE_DATA = "data:"
SSE_DONE = "[DONE]"
MESSAGE_LIMIT = 300  # characters of the model's own error message kept in ours

# Told of every HTTP exchange with the model (upstream.client.CallObserver), and of each
# reply's token usage. apps.monitoring's metrics listen here. Observers must be cheap and
# never raise.
UsageObserver = Callable[[int, int], None]
call_observers: list[CallObserver] = []
usage_observers: list[UsageObserver] = []


@dataclass(frozen=True)
class ToolCall:
    """A tool the model asks to run; `arguments` parsed from its JSON text."""

    id: str
    name: str
    arguments: dict


@dataclass(frozen=True)
class ChatReply:
    """One complete answer: text and/or tool calls, why it ended, and the tokens it used."""

    content: str | None
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str
    usage: dict  # {"prompt_tokens": int, "completion_tokens": int}


@dataclass(frozen=True, slots=True, kw_only=True)
class LlmClientSettings(ClientSettings):
    """Everything the client needs (built from AssistantConfig by the service)."""

    model: str
    api_key: str = field(default="", repr=False)
    read_timeout: float = 60.0  # a model's answer takes far longer than HWA's
    max_tokens: int = 1024
    temperature: float = 0.2
    max_retries: int = 2
    backoff_max: float = 8.0

    def __post_init__(self) -> None:
        # Two-argument super(): slots=True makes a new class, unknown to the bare form.
        super(LlmClientSettings, self).__post_init__()
        if self.max_tokens < 1 or self.max_retries < 0 or self.max_connections < 1:
            raise ValueError("max_tokens and max_connections must be >= 1, max_retries >= 0")


@dataclass(slots=True)
class _Failure(Failure):
    """One failed attempt: connect | timeout | dropped | status | not_json, and the model's
    own message. Metric labels: those kinds, http_4xx, http_429, http_5xx (and bad_output,
    circuit_open, counted outside this class)."""

    # Only what the model certainly did not work on: no connection, or "try later".
    retryable_kinds = frozenset({"connect"})
    retryable_statuses = frozenset({429, 503})
    labelled_statuses = frozenset({429})

    message: str = ""


def _model_message(response: httpx.Response) -> str:
    """The model server's own error text (OpenAI: {"error": {"message": ...}}), shortened."""
    try:
        data = orjson.loads(response.read())
    except (ValueError, httpx.HTTPError):
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    return str(message)[:MESSAGE_LIMIT] if message else ""


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


class LlmClient(ResilientClient[LlmClientSettings]):
    """A thread-safe client for one chat-completions endpoint and model."""

    call_observers = call_observers
    # The configuration holder closes a replaced client while callers that took it just
    # before may still call it: they get their call, on a fresh pool closed again after.
    reopen_when_closed = True

    def _build_http(self, settings: LlmClientSettings) -> httpx.Client:
        headers = dict(JSON_HEADERS)
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        return httpx.Client(
            base_url=settings.base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(
                settings.read_timeout, connect=settings.connect_timeout, pool=settings.read_timeout
            ),
            limits=httpx.Limits(max_connections=settings.max_connections),
        )

    # --- public calls -------------------------------------------------------------------
    def chat(
        self,
        messages: list[dict],
        *,
        tools: list[dict] | None = None,
        max_tokens: int | None = None,
    ) -> ChatReply:
        """One whole answer to `messages`, offering `tools` to call."""
        body = self._body(messages, tools, max_tokens, stream=False)
        started = time.perf_counter()
        with self._lease() as http:
            response = self._open(http, body, operation="chat", stream=False)
            try:
                data = self._json(response)
            except _Failure as failure:
                raise self._fail("chat", started, failure) from None
            finally:
                response.close()
        # A JSON answer: the server is up, whatever the model put in it.
        self._breaker.record_success()
        try:
            reply = parse_reply(data)
        except LlmBadOutputError:
            self._bad_output("chat", started)
            raise
        self._observe("chat", time.perf_counter() - started, None)
        _usage(reply.usage)
        return reply

    def chat_stream(
        self,
        messages: list[dict],
        *,
        tools: list[dict] | None = None,
        max_tokens: int | None = None,
    ) -> Iterator[str | ChatReply]:
        """Yield the answer's text as it comes (str pieces), then the whole `ChatReply`.

        Nothing is sent before the first item is asked for; errors are raised from the
        iteration (before any piece when the request itself fails).
        """
        body = self._body(messages, tools, max_tokens, stream=True)
        started = time.perf_counter()
        with self._lease() as http:
            response = self._open(http, body, operation="chat_stream", stream=True)
            try:
                reply = yield from self._read_stream(response, started)
            except GeneratorExit:
                # The caller stopped reading; the server was answering (this also ends a
                # half-open trial, which would otherwise wait out its cool-off).
                self._breaker.record_success()
                raise
            finally:
                response.close()
        self._breaker.record_success()
        self._observe("chat_stream", time.perf_counter() - started, None)
        _usage(reply.usage)
        yield reply

    def models(self) -> list[str]:
        """The model ids the server offers (GET /models): one un-retried call, no breaker."""
        try:
            with self._lease() as http:
                response = http.get(MODELS_PATH)
        except httpx.TimeoutException as exc:
            raise LlmUnavailableError(errors.TIMED_OUT.format(reason=type(exc).__name__)) from None
        except httpx.TransportError as exc:
            raise self._unreachable(str(exc)) from None
        if response.status_code >= 400:
            raise self._error(self._status_failure(response))
        try:
            data = orjson.loads(response.content)["data"]
            return [str(item["id"]) for item in data]
        except (ValueError, KeyError, TypeError) as exc:
            raise LlmBadOutputError(errors.BAD_SHAPE.format(reason=f"GET /models: {exc}")) from None

    # --- requests -----------------------------------------------------------------------
    def _body(
        self, messages: list[dict], tools: list[dict] | None, max_tokens: int | None, stream: bool
    ) -> dict[str, Any]:
        settings = self._settings
        body: dict[str, Any] = {
            "model": settings.model,
            "messages": messages,
            "max_tokens": min(max_tokens or settings.max_tokens, settings.max_tokens),
            "temperature": settings.temperature,
            "stream": stream,
        }
        if tools:
            body["tools"] = tools
        if stream:
            # Usage in the last chunk (OpenAI, vLLM, Ollama; ignored where unsupported).
            body["stream_options"] = {"include_usage": True}
        return body

    def _open(
        self, http: httpx.Client, body: dict[str, Any], *, operation: str, stream: bool
    ) -> httpx.Response:
        """Send the request through the breaker, retrying only the safe failures; the
        response is open (a stream not yet read) and its status is 2xx. Its success is
        recorded by the caller, once the whole answer has arrived."""
        payload = orjson.dumps(body)
        response, _ = self._retrying(
            operation,
            lambda: self._send(http, payload, stream),
            attempts=self._settings.max_retries + 1,
            error=lambda failure, _attempts: self._error(failure),
        )
        return response

    def _send(self, http: httpx.Client, payload: bytes, stream: bool) -> httpx.Response:
        request = http.build_request("POST", CHAT_PATH, content=payload)
        try:
            response = http.send(request, stream=stream)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _Failure("connect", f"{type(exc).__name__}: {exc}") from None
        except httpx.TimeoutException as exc:
            raise _Failure("timeout", type(exc).__name__) from None
        except httpx.TransportError as exc:
            raise _Failure("dropped", f"{type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            failure = self._status_failure(response)
            response.close()
            raise failure
        return response

    def _status_failure(self, response: httpx.Response) -> _Failure:
        return _Failure(
            "status",
            f"HTTP {response.status_code}",
            status=response.status_code,
            message=_model_message(response),
            retry_after=_retry_after(response),
        )

    def _json(self, response: httpx.Response) -> Any:
        try:
            content = response.read()
        except httpx.TimeoutException as exc:
            raise _Failure("timeout", type(exc).__name__) from None
        except httpx.TransportError as exc:
            raise _Failure("dropped", f"{type(exc).__name__}: {exc}") from None
        try:
            return orjson.loads(content)
        except ValueError as exc:
            raise _Failure("not_json", str(exc)) from None

    def _fail(self, operation: str, started: float, failure: _Failure) -> LlmError:
        """A failure after the answer began: timed, counted, and turned into the error."""
        self._observe(operation, time.perf_counter() - started, failure.metric_kind)
        self._record(failure)
        return self._error(failure)

    def _bad_output(self, operation: str, started: float, *, server_up: bool = False) -> None:
        """JSON of the wrong shape, or a tool call that cannot be read: the model's output
        failed, not the server (`server_up`: record that on the breaker now)."""
        self._observe(operation, time.perf_counter() - started, "bad_output")
        if server_up:
            self._breaker.record_success()

    # --- streaming ----------------------------------------------------------------------
    def _read_stream(self, response: httpx.Response, started: float) -> Iterator[str | ChatReply]:
        builder = _StreamBuilder()
        try:
            for line in response.iter_lines():
                data = _sse_data(line)
                if data is None:
                    continue
                if data == SSE_DONE:
                    break
                try:
                    chunk = orjson.loads(data)
                except ValueError as exc:
                    raise _Failure("not_json", f"stream chunk: {exc}") from None
                piece = builder.add(chunk)
                if piece:
                    yield piece
        except httpx.TimeoutException as exc:
            failure = _Failure("timeout", type(exc).__name__)
            raise self._fail("chat_stream", started, failure) from None
        except httpx.TransportError as exc:
            failure = _Failure("dropped", f"{type(exc).__name__}: {exc}")
            raise self._fail("chat_stream", started, failure) from None
        except _Failure as failure:
            raise self._fail("chat_stream", started, failure) from None
        except LlmBadOutputError:
            self._bad_output("chat_stream", started, server_up=True)
            raise
        try:
            return builder.reply()
        except LlmBadOutputError:
            self._bad_output("chat_stream", started, server_up=True)
            raise

    # --- errors -------------------------------------------------------------------------
    def _circuit_open(self) -> LlmUnavailableError:
        detail, retry_after, _ = self._suspension(errors.CIRCUIT_OPEN)
        return LlmUnavailableError(detail, retry_after=retry_after)

    def _unreachable(self, reason: str) -> LlmUnavailableError:
        detail = errors.UNREACHABLE.format(url=self._settings.base_url, reason=reason)
        return LlmUnavailableError(detail, retry_after=5)

    def _error(self, failure: _Failure) -> LlmError:
        """The typed error the caller sees for the last failed attempt."""
        if failure.kind in ("connect", "dropped"):
            return self._unreachable(failure.reason)
        if failure.kind == "timeout":
            return LlmUnavailableError(errors.TIMED_OUT.format(reason=failure.reason))
        if failure.kind == "not_json":
            return LlmBadOutputError(errors.NOT_JSON.format(reason=failure.reason))
        message = f": {failure.message}" if failure.message else ""
        retry_after = max(1, math.ceil(failure.retry_after or 1))
        if failure.status == 429:
            detail = errors.RATE_LIMITED.format(message=message)
            return LlmUnavailableError(detail, retry_after=retry_after)
        if failure.status >= 500:
            detail = errors.SERVER_FAILED.format(status=failure.status, message=message)
            return LlmUnavailableError(detail, retry_after=retry_after)
        return LlmError(errors.REFUSED.format(status=failure.status, message=message))


def _usage(usage: dict) -> None:
    for observer in usage_observers:
        observer(usage["prompt_tokens"], usage["completion_tokens"])


def _sse_data(line: str) -> str | None:
    """The payload of an SSE "data:" line (None for comments, blank and other fields)."""
    if not line.startswith(SSE_DATA):
        return None
    return line[len(SSE_DATA) :].strip()


# --- parsing ------------------------------------------------------------------------------
def _bad(reason: str) -> LlmBadOutputError:
    return LlmBadOutputError(errors.BAD_SHAPE.format(reason=reason))


def _first_choice(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _bad("the body is not a JSON object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _bad("no choices[0]")
    return choices[0]


def parse_usage(raw: Any) -> dict[str, int]:
    """prompt_tokens and completion_tokens (0 when the server does not report them)."""
    raw = raw if isinstance(raw, dict) else {}
    return {
        key: raw[key] if isinstance(raw.get(key), int) else 0
        for key in ("prompt_tokens", "completion_tokens")
    }


def parse_arguments(name: str, raw: Any) -> dict:
    """A tool call's arguments: a JSON object as text (OpenAI) or already an object (Ollama)."""
    if isinstance(raw, dict):
        return raw
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        value = orjson.loads(raw) if isinstance(raw, str | bytes) else None
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise LlmBadOutputError(errors.BAD_ARGUMENTS.format(name=name))
    return value


def parse_tool_call(raw: Any, index: int) -> ToolCall:
    if not isinstance(raw, dict) or not isinstance(raw.get("function"), dict):
        raise _bad(f"tool_calls[{index}] has no function")
    function = raw["function"]
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise _bad(f"tool_calls[{index}] has no function name")
    # Some servers (older llama.cpp) send no id; the id only pairs a call with its result.
    call_id = raw.get("id") if isinstance(raw.get("id"), str) and raw.get("id") else None
    return ToolCall(
        id=call_id or f"call_{index}",
        name=name,
        arguments=parse_arguments(name, function.get("arguments")),
    )


def parse_reply(data: Any) -> ChatReply:
    """A non-streamed chat-completions answer as a `ChatReply` (LlmBadOutputError if not)."""
    choice = _first_choice(data)
    message = choice.get("message")
    if not isinstance(message, dict):
        raise _bad("choices[0] has no message")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise _bad("message.content is not text")
    raw_calls = message.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        raise _bad("message.tool_calls is not a list")
    calls = tuple(parse_tool_call(raw, i) for i, raw in enumerate(raw_calls))
    if content is None and not calls:
        raise _bad("the message has neither content nor tool calls")
    finish = choice.get("finish_reason")
    return ChatReply(
        content=content,
        tool_calls=calls,
        finish_reason=finish if isinstance(finish, str) else ("tool_calls" if calls else "stop"),
        usage=parse_usage(data.get("usage")),
    )


class _StreamBuilder:
    """Puts a streamed answer back together: text pieces, tool-call fragments by index."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish: str | None = None
        self.usage: Any = None

    def add(self, chunk: Any) -> str:
        """Take one chunk; return its text piece ("" if none)."""
        if isinstance(chunk, dict) and chunk.get("usage"):
            self.usage = chunk["usage"]
        if isinstance(chunk, dict) and chunk.get("choices") == []:
            return ""  # the usage-only last chunk
        choice = _first_choice(chunk)
        if isinstance(choice.get("finish_reason"), str):
            self.finish = choice["finish_reason"]
        delta = choice.get("delta") or {}
        if not isinstance(delta, dict):
            raise _bad("choices[0].delta is not an object")
        for fragment in delta.get("tool_calls") or []:
            self._add_call(fragment)
        piece = delta.get("content")
        if piece is not None and not isinstance(piece, str):
            raise _bad("delta.content is not text")
        if piece:
            self.text.append(piece)
        return piece or ""

    def _add_call(self, fragment: Any) -> None:
        if not isinstance(fragment, dict):
            raise _bad("a tool call fragment is not an object")
        index = fragment.get("index", len(self.calls))
        call = self.calls.setdefault(index, {"id": None, "name": "", "arguments": ""})
        if fragment.get("id"):
            call["id"] = fragment["id"]
        function = fragment.get("function") or {}
        if isinstance(function.get("name"), str):
            call["name"] += function["name"]
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            call["arguments"] += arguments
        elif isinstance(arguments, dict):
            call["arguments"] = arguments

    def reply(self) -> ChatReply:
        calls = tuple(
            parse_tool_call(
                {"id": c["id"], "function": {"name": c["name"], "arguments": c["arguments"]}}, i
            )
            for i, c in enumerate(self.calls[k] for k in sorted(self.calls))
        )
        content = "".join(self.text) if self.text or not calls else None
        return ChatReply(
            content=content,
            tool_calls=calls,
            finish_reason=self.finish or ("tool_calls" if calls else "stop"),
            usage=parse_usage(self.usage),
        )


def llm_client() -> LlmClient:
    """The process-wide client for the live AssistantConfig.

    Raises AssistantDisabledError when an administrator turned the assistant off. The
    client is rebuilt within a second of a configuration change, in every process.
    """
    from apps.core.services.assistant_config import assistant_llm_client

    return assistant_llm_client()
