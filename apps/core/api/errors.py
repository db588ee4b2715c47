"""The one error format of the API: an RFC 9457 problem body with the request id.

    {"type": "about:blank", "title": "Bad request", "status": 400,
     "detail": "Invalid query parameter: page_size.", "request_id": "...",
     "errors": {"page_size": ["..."]}}

Every error takes this shape: DRF exceptions, domain errors (ApplicationError), Django's
Http404/PermissionDenied, unexpected exceptions (a 500 that never leaks internals), and
Django-level 404/500 under /api/ (see handler404/handler500).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

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
INTERNAL_ERROR_DETAIL = "An unexpected error occurred. Quote the request id when reporting it."
VALIDATION_DETAIL = "Invalid input: {fields}."


def problem_body(status: int, detail: str, *, title: str | None = None, **extra: Any) -> dict:
    body = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "request_id": current_request_id(),
    }
    body.update(extra)
    return body


def problem_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception becomes a problem response."""
    if isinstance(exc, ApplicationError):
        return _application_error(exc)
    if unavailable := database_unavailable_error(exc):  # database busy or down: 503, not 500
        return _application_error(unavailable)
    response = exception_handler(exc, context)  # converts Http404, PermissionDenied too
    if response is None:
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
        return Response(
            problem_body(500, INTERNAL_ERROR_DETAIL), status=500, content_type=PROBLEM_CONTENT_TYPE
        )
    response.data = _drf_problem(exc, response.status_code, response.data)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _application_error(exc: ApplicationError) -> Response:
    body = problem_body(exc.status_code, exc.detail, title=exc.title, **exc.extra)
    body["type"] = exc.problem_type
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
        body = problem_body(404, "No such endpoint.")
        return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest):
    if unavailable := current_unavailable_response():  # e.g. raised in a middleware
        return unavailable
    if _is_api(request):
        body = problem_body(500, INTERNAL_ERROR_DETAIL)
        return JsonResponse(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
    return defaults.server_error(request)
