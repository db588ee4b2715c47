"""Domain errors. Every error the product raises on purpose subclasses ApplicationError.

The API's exception handler turns each into the one JSON problem body, using the class's
HTTP status (the title is that status's phrase, from apps.core.api.errors.TITLES), so views
never build error responses by hand.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """An expected failure with a message fit to show a user."""

    status_code = 400
    problem_type = "about:blank"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}


class NotFoundError(ApplicationError):
    status_code = 404


class ConflictError(ApplicationError):
    status_code = 409


class UpstreamError(ApplicationError):
    """The HWA server (or another dependency) failed or refused the call."""

    status_code = 502


class ServiceUnavailableError(ApplicationError):
    """A dependency is saturated or down; the client should retry later."""

    status_code = 503

    def __init__(self, detail: str, *, retry_after: int = 1, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.retry_after = retry_after
