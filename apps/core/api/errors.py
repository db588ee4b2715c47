"""The API's exception handler: every error answers the one problem body (api/problems.py).

Every error takes this shape: DRF exceptions, domain errors (ApplicationError), invalid
input to a service (Django's ValidationError with a message dict: a 400 whose `errors`
names each field, as DRF's own validation errors), Django's Http404/PermissionDenied,
unexpected exceptions (a 500 that never leaks internals), and Django-level 404/500 under
/api/ (see handler404/handler500), oversized bodies (413, see apps.core.api.limits).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from apps.core.api.problems import PROBLEM_CONTENT_TYPE, problem_body, problem_response
from apps.core.errors import ApplicationError, ServiceUnavailableError
from apps.core.pools.unavailable import current_unavailable_response, database_unavailable_error

logger = logging.getLogger(__name__)

NO_SUCH_ENDPOINT = "No such endpoint."
INTERNAL_ERROR_DETAIL = "An unexpected error occurred. Quote the request id when reporting it."
VALIDATION_DETAIL = "Invalid input: {fields}."
BODY_TOO_LARGE = "The request body is larger than the limit of {limit:,} bytes."


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
    if isinstance(exc, DjangoValidationError):  # a service's model validation (full_clean)
        body = _invalid_input(_field_errors(exc))
        return Response(body, status=400, content_type=PROBLEM_CONTENT_TYPE)
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


def _field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    """Django's messages by field, with its "__all__" key spelled as DRF spells it."""
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    non_field = {NON_FIELD_ERRORS: api_settings.NON_FIELD_ERRORS_KEY}
    return {non_field.get(field, field): messages for field, messages in exc.message_dict.items()}


def _invalid_input(errors: dict) -> dict:
    fields = ", ".join(errors) or "request"
    return problem_body(400, VALIDATION_DETAIL.format(fields=fields), errors=errors)


def _drf_problem(exc: Exception, status: int, data: Any) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        return _invalid_input(data if isinstance(data, dict) else {"non_field_errors": data})
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
