"""The problem body (RFC 9457) every error answer carries, built in one place.

    {"type": "about:blank", "title": "Bad Request", "status": 400,
     "detail": "Invalid query parameter: page_size.", "request_id": "...",
     "errors": {"page_size": ["..."]}}

The title is always the status's reason phrase from TITLES: with type "about:blank",
RFC 9457 asks for exactly that, so one status is spelled one way. This module depends on
nothing but the request id, so both the API's exception handler (apps.core.api.errors) and
the database's 503 answers (apps.core.pools.unavailable) build their bodies here.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.http import JsonResponse

from apps.core.middleware import current_request_id

PROBLEM_CONTENT_TYPE = "application/problem+json"

# The one spelling of every problem title: RFC 9110's reason phrases.
TITLES: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def problem_title(status: int) -> str:
    return TITLES.get(status) or HTTPStatus(status).phrase


def problem_body(
    status: int, detail: str, *, problem_type: str = "about:blank", **extra: Any
) -> dict:
    body = {
        "type": problem_type,
        "title": problem_title(status),
        "status": status,
        "detail": detail,
        "request_id": current_request_id(),
    }
    body.update({key: value for key, value in extra.items() if key not in body})
    return body


def problem_response(status: int, detail: str, **extra: Any) -> JsonResponse:
    """A problem answered outside DRF (Django's handlers, middleware)."""
    body = problem_body(status, detail, **extra)
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
