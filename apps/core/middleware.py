"""Request correlation: every request gets an id, echoed in the response and the logs."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# A client-supplied id is kept only if it is short and plain, so it is safe in logs.
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_current_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id() -> str:
    return _current_request_id.get()


class RequestIdMiddleware:
    """Take the caller's X-Request-ID (or make one) and echo it on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = supplied if _VALID_ID.match(supplied) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current_request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Adds the current request id to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True
