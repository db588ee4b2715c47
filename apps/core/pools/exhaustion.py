"""A database pool that stays exhausted past connection_timeout answers 503, not 500.

psycopg_pool raises PoolTimeout (or TooManyRequests past max_waiting); Django wraps it in
django.db.OperationalError with the original as __cause__. DRF views are converted by the
API exception handler, other views by PoolExhaustionMiddleware, and anything raised in a
middleware by handler500 (all three call `pool_exhaustion_error`).
"""

from __future__ import annotations

import sys

from django.http import HttpRequest, JsonResponse
from psycopg_pool import PoolTimeout, TooManyRequests

from apps.core.errors import ServiceUnavailableError

POOL_EXHAUSTED = "The database is busy: no connection became free in time. Retry shortly."
RETRY_AFTER_S = 1


def pool_exhaustion_error(exc: BaseException | None) -> ServiceUnavailableError | None:
    """The 503 to answer if `exc` (or its cause) is a database pool exhaustion."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, PoolTimeout | TooManyRequests):
            return ServiceUnavailableError(POOL_EXHAUSTED, retry_after=RETRY_AFTER_S)
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def problem_response(error: ServiceUnavailableError) -> JsonResponse:
    from apps.core.api.errors import PROBLEM_CONTENT_TYPE, problem_body

    body = problem_body(error.status_code, error.detail)
    response = JsonResponse(body, status=error.status_code, content_type=PROBLEM_CONTENT_TYPE)
    response["Retry-After"] = str(error.retry_after)
    return response


def current_exhaustion_response() -> JsonResponse | None:
    """In an exception handler: the 503 for the exception being handled, if it applies."""
    error = pool_exhaustion_error(sys.exc_info()[1])
    return problem_response(error) if error else None


class PoolExhaustionMiddleware:
    """Turns a pool exhaustion raised by a (non-DRF) view into a 503 problem."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        error = pool_exhaustion_error(exception)
        return problem_response(error) if error else None
