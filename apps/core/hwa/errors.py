"""Typed errors for HWA calls, each mapped to the HTTP status our own API answers with.

All subclass `HwaError` (an `UpstreamError`), so a caller can catch one class; the
specific ones also subclass the matching generic `ApplicationError` (not found, service
unavailable) so the one API exception handler renders them right. Each carries the text of
HWA's `messages` array when HWA sent one. Message templates are module constants so tests
assert on them rather than on copied strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.core.errors import (
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    UpstreamError,
)

AUTH_REJECTED = "HWA rejected the credentials of user {username!r} (HTTP {status})"
NOT_FOUND = "HWA has no such object: {method} {path}"
REFUSED = "HWA refused {method} {path} (HTTP {status})"
SERVER_FAILED = "HWA failed on {method} {path} (HTTP {status})"
TIMED_OUT = "HWA did not answer {method} {path} in time after {attempts} attempt(s): {reason}"
UNREACHABLE = "Cannot reach HWA at {url}: {reason}"
CIRCUIT_OPEN = (
    "HWA calls are suspended after {failures} consecutive failures; retry in {retry_after} s"
)
MALFORMED_JSON = "HWA sent malformed JSON for {method} {path}: {reason}"
UNEXPECTED_SHAPE = "HWA sent an unexpected response for {path}: {reason}"
MISSING_FIELD = "HWA {kind} record lacks required field {field!r}"
BAD_FIELD = "HWA {kind} record has an unreadable {field!r}: {value!r}"


def _with_messages(detail: str, messages: Sequence[str]) -> str:
    return f"{detail}: {'; '.join(messages)}" if messages else detail


class HwaError(UpstreamError):
    """HWA failed or answered in a way we cannot use (base class, 502)."""

    def __init__(
        self,
        detail: str,
        *,
        messages: Sequence[str] = (),
        extra: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.messages: tuple[str, ...] = tuple(messages)
        extra = {**(extra or {}), **({"hwa_messages": list(self.messages)} if messages else {})}
        super().__init__(_with_messages(detail, self.messages), extra=extra, **kwargs)


class HwaAuthError(HwaError):
    """HWA rejected our credentials (401/403): a configuration problem, never retried."""


class HwaNotFound(HwaError, NotFoundError):
    """HWA answered 404 for the object asked for."""

    status_code = 404


class HwaRefused(HwaError, ConflictError):
    """HWA refused the request (a 4xx with messages): 409 for a conflict, else 422."""

    def __init__(self, detail: str, *, http_status: int, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.http_status = http_status
        # A conflict stays a conflict for our caller; other refusals are bad input.
        self.status_code = 409 if http_status == 409 else 422


class HwaServerError(HwaError):
    """HWA answered with a 5xx other than 503."""


class HwaTimeout(HwaError):
    """HWA did not answer within the configured timeouts (after retries when allowed)."""

    status_code = 504


class HwaUnavailable(HwaError, ServiceUnavailableError):
    """HWA cannot be reached, answered 503, or the circuit breaker is open (503)."""

    status_code = 503


class HwaProtocolError(HwaError):
    """HWA sent malformed JSON or a shape we cannot read; names the reason."""
