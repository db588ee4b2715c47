"""A database that cannot serve a request answers 503 with Retry-After, never 500, never a hang.

Two cases, both a ServiceUnavailableError in the problem format:

- the pool stays exhausted past the wait allowed (psycopg_pool's PoolTimeout, or
  TooManyRequests past max_waiting): the database is busy;
- the database is down: the breaker is open (DatabaseUnavailable, raised at once), or a
  connection failed or was lost mid-request (apps.core.pools.database.is_connection_failure).

Django wraps psycopg's errors in django.db errors with the original as __cause__. DRF views
are converted by the API exception handler, other views by DatabaseUnavailableMiddleware,
and anything raised in a middleware by handler500 (all three call
`database_unavailable_error`).

DatabaseUnavailableMiddleware also caps every wait for a pooled connection on the request
path at settings.DB_REQUEST_TIMEOUT (see apps.core.pools.database.request_deadline).
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from psycopg_pool import PoolTimeout, TooManyRequests

from apps.core.api.problems import problem_response
from apps.core.errors import ServiceUnavailableError
from apps.core.pools import database

POOL_EXHAUSTED = "The database is busy: no connection became free in time. Retry shortly."
DATABASE_DOWN = "The database is unavailable. Retry shortly."
RETRY_AFTER_S = 1


def database_unavailable_error(exc: BaseException | None) -> ServiceUnavailableError | None:
    """The 503 to answer if `exc` (or its cause) says the database cannot serve now."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, PoolTimeout | TooManyRequests):
            return ServiceUnavailableError(POOL_EXHAUSTED, retry_after=RETRY_AFTER_S)
        if database.is_connection_failure(exc):
            return ServiceUnavailableError(DATABASE_DOWN, retry_after=RETRY_AFTER_S)
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def unavailable_response(error: ServiceUnavailableError) -> JsonResponse:
    response = problem_response(error.status_code, error.detail)
    response["Retry-After"] = str(error.retry_after)
    return response


def current_unavailable_response() -> JsonResponse | None:
    """In an exception handler: the 503 for the exception being handled, if it applies."""
    error = database_unavailable_error(sys.exc_info()[1])
    return unavailable_response(error) if error else None


class DatabaseUnavailableMiddleware:
    """Caps database waits on the request path; a non-DRF view's unavailable database is a 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        database.ensure_pool()
        with database.request_deadline(settings.DB_REQUEST_TIMEOUT):
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        error = database_unavailable_error(exception)
        return unavailable_response(error) if error else None
