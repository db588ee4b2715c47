"""The one error format of the API: an RFC 9457 problem body with the request id.

    {"type": "about:blank", "title": "Bad Request", "status": 400,
     "detail": "Invalid query parameter: page_size.", "request_id": "...",
     "errors": {"page_size": ["..."]}}

Every error takes this shape: DRF exceptions, domain errors (ApplicationError), Django's
Http404/PermissionDenied, unexpected exceptions (a 500 that never leaks internals), and
Django-level 404/500 under /api/ (see handler404/handler500), oversized bodies (413, see
apps.core.api.limits). The title is always the status's reason phrase from TITLES: with
type "about:blank", RFC 9457 asks for exactly that, so one status is spelled one way.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from apps.core.errors import ApplicationError, ServiceUnavailableError
from apps.core.middleware import current_request_id
from apps.core.pools.unavailable import current_unavailable_response, database_unavailable_error

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
NO_SUCH_ENDPOINT = "No such endpoint."
INTERNAL_ERROR_DETAIL = "An unexpected error occurred. Quote the request id when reporting it."
VALIDATION_DETAIL = "Invalid input: {fields}."
BODY_TOO_LARGE = "The request body is larger than the limit of {limit:,} bytes."

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


def body_too_large_detail() -> str:
    return BODY_TOO_LARGE.format(limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def problem_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception becomes a problem response."""
    if isinstance(exc, ApplicationError):
        return _application_error(exc)
    if unavailable := database_unavailable_error(exc):  # database busy or down: 503, not 500
        return _application_error(unavailable)
    if isinstance(exc, RequestDataTooBig):  # a body without Content-Length read too far
        return _problem(413, body_too_large_detail())
    if isinstance(exc, SuspiciousOperation):  # e.g. more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS
        return _problem(400, str(exc))
    response = exception_handler(exc, context)  # converts Http404, PermissionDenied too
    if response is None:
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
        return _problem(500, INTERNAL_ERROR_DETAIL)
    response.data = _drf_problem(exc, response.status_code, response.data)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _problem(status: int, detail: str) -> Response:
    return Response(problem_body(status, detail), status=status, content_type=PROBLEM_CONTENT_TYPE)


def _application_error(exc: ApplicationError) -> Response:
    body = problem_body(exc.status_code, exc.detail, problem_type=exc.problem_type, **exc.extra)
    response = Response(body, status=exc.status_code, content_type=PROBLEM_CONTENT_TYPE)
    if isinstance(exc, ServiceUnavailableError):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _drf_problem(exc: Exception, status: int, data: Any) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        fields = ", ".join(errors) or "request"
        return problem_body(status, VALIDATION_DETAIL.format(fields=fields), errors=errors)
    detail = data.get("detail", "") if isinstance(data, dict) else str(data)
    return problem_body(status, str(detail))


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def handler404(request: HttpRequest, exception: Exception):
    if _is_api(request):
        return problem_response(404, NO_SUCH_ENDPOINT)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest):
    if unavailable := current_unavailable_response():  # e.g. raised in a middleware
        return unavailable
    if _is_api(request):
        return problem_response(500, INTERNAL_ERROR_DETAIL)
    return defaults.server_error(request)
