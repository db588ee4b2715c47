"""Typed errors of calls to the assistant's model, each rendered as the one problem body.

All subclass `LlmError` (an `UpstreamError`, 502), so a caller catches one class:

- `LlmUnavailableError` (503, Retry-After): the model cannot be reached, timed out,
  answered 5xx or 429, or the breaker is open after repeated failures.
- `LlmBadOutputError` (502): the model answered, but not in the chat-completions shape
  (a body that is not JSON, a missing field, tool-call arguments that are not JSON).
- `AssistantDisabledError` (503): an administrator turned the assistant off.

Anything else (the model refused the request: a bad API key, an unknown model, a prompt
too long) is a plain `LlmError` naming the HTTP status and the model's own message. The
API key never appears in any message. Templates are module constants for the tests.
"""

from __future__ import annotations

from typing import Any

from apps.core.errors import ServiceUnavailableError, UpstreamError

UNREACHABLE = "Cannot reach the assistant's model at {url}: {reason}"
TIMED_OUT = "The assistant's model did not answer in time ({reason})"
SERVER_FAILED = "The assistant's model failed (HTTP {status}){message}"
RATE_LIMITED = "The assistant's model is rate limiting Resync (HTTP 429){message}"
REFUSED = "The assistant's model refused the request (HTTP {status}){message}"
CIRCUIT_OPEN = (
    "Calls to the assistant's model are suspended after {failures} consecutive failures; "
    "retry in {retry_after} s"
)
NOT_JSON = "The assistant's model sent a body that is not JSON: {reason}"
BAD_SHAPE = "The assistant's model sent an answer Resync cannot read: {reason}"
BAD_ARGUMENTS = "The assistant's model called tool {name!r} with arguments that are not JSON"
DISABLED = "The assistant is turned off (admin: Assistant configuration, 'enabled')"
KEY_UNREADABLE = "The assistant's API key cannot be decrypted; enter it again in the admin"


class LlmError(UpstreamError):
    """The model failed or answered in a way Resync cannot use (base class, 502)."""

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(detail, extra=extra, **kwargs)


class LlmUnavailableError(LlmError, ServiceUnavailableError):
    """The model cannot answer now: unreachable, timed out, 5xx, 429, or breaker open."""

    status_code = 503


class LlmBadOutputError(LlmError):
    """The model's answer is not the chat-completions shape (or tool arguments not JSON)."""


class AssistantDisabledError(LlmError, ServiceUnavailableError):
    """An administrator turned the assistant off."""

    status_code = 503

    def __init__(self, detail: str = DISABLED, **kwargs: Any) -> None:
        kwargs.setdefault("retry_after", 300)
        super().__init__(detail, **kwargs)
