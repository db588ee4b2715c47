"""Domain errors. Every error the product raises on purpose subclasses ApplicationError,
except invalid input to a service, which is Django's ValidationError with a message dict.

The API's exception handler turns each into the one JSON problem body, using the class's
HTTP status (the title is that status's phrase, from apps.core.api.problems.TITLES), so views
never build error responses by hand. A ValidationError is what a model's `full_clean()`
raises, so the config services (pools, cache, the HWA connection) validate with the model
and raise it as it comes: the API answers it as a 400 whose `errors` names each field, and
an admin form, which runs the same `full_clean()`, shows the same messages by field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError

UNKNOWN_SETTING = "Unknown setting; known settings: {known}."


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


def reject_unknown_fields(values: Mapping[str, Any], *, known: Iterable[str]) -> None:
    """Raise a ValidationError naming every key of `values` that is not a known setting."""
    known = tuple(known)
    unknown = sorted(set(values) - set(known))
    if unknown:
        message = UNKNOWN_SETTING.format(known=", ".join(known))
        raise ValidationError({field: [message] for field in unknown})
