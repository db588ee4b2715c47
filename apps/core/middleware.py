"""Request correlation: every request gets an id, echoed in the response and the logs.

The id is a context variable, so whatever runs on behalf of the request carries it: log
lines (RequestIdLogFilter), audit rows, and the calls to HWA (its `Request-Id` header).
Work that no request started (a sync run of `sync_plan --loop`) makes an id of its own with
`request_id_context()`, so one id follows a job action or a sync from start to end.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

REQUEST_ID_HEADER = "X-Request-ID"
NO_REQUEST_ID = "-"
# A client-supplied id is kept only if it is short and plain, so it is safe in logs.
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_current_request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST_ID)
_current_request: ContextVar[HttpRequest | None] = ContextVar("request", default=None)


def current_request_id() -> str:
    """The id of the request or job being served ("-" when there is none)."""
    return _current_request_id.get()


def new_request_id() -> str:
    # 32 random hex digits, as uuid4().hex gave, without building a UUID from the system's
    # entropy on every request: an id only needs to be unlikely to repeat, not unguessable.
    # (`random` reseeds in each forked worker.)
    return f"{random.getrandbits(128):032x}"


@contextmanager
def request_id_context(request_id: str | None = None) -> Iterator[str]:
    """Make `request_id` current for the block; without one, keep the current id or make one.

    A sync started by the loop gets a new id per run; one started inside a request keeps the
    request's, so its log lines and rows name the request that caused them.
    """
    current = current_request_id()
    chosen = request_id or (current if current != NO_REQUEST_ID else new_request_id())
    token = _current_request_id.set(chosen)
    try:
        yield chosen
    finally:
        _current_request_id.reset(token)


def request_id_adopt(request: HttpRequest, request_id: str) -> None:
    """Make `request_id` the id of the request being served, from here to its response
    (X-Request-ID, problem bodies, audit rows): for an id the client sent in the body."""
    request.request_id = request_id
    _current_request_id.set(request_id)  # RequestIdMiddleware's reset() undoes it after


class RequestIdMiddleware:
    """Take the caller's X-Request-ID (or make one) and echo it on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = supplied if _VALID_ID.match(supplied) else new_request_id()
        request.request_id = request_id
        token = _current_request_id.set(request_id)
        request_token = _current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current_request.reset(request_token)
            _current_request_id.reset(token)
        # A view may adopt an id the client gave in its body (request_id_adopt).
        response[REQUEST_ID_HEADER] = getattr(request, "request_id", request_id)
        return response


def resolved_username(request: HttpRequest | None) -> str:
    """The user the request was authenticated as, if that is known already, else "-".

    Never authenticates by itself: a log line must not read the session or the user row
    (that would be a query per line, and fail while the database is down).
    """
    user = getattr(request, "user", None) if request is not None else None
    if user is None or getattr(user, "_wrapped", None) is empty:  # a lazy user not read yet
        return NO_REQUEST_ID
    if not getattr(user, "is_authenticated", False):
        return "anonymous"
    return user.get_username()


def resolved_route(request: HttpRequest | None) -> str:
    """The URL pattern the request matched ("" before resolution or when none did)."""
    match = getattr(request, "resolver_match", None) if request is not None else None
    return match.route if match is not None else ""


class RequestIdLogFilter(logging.Filter):
    """Adds the current request id, user and route to every log record.

    Django logs a request's 4xx and 5xx (logger django.request) once the middleware has
    returned, with the request on the record: those lines take the request's own.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None) or _current_request.get()
        record.request_id = getattr(request, "request_id", None) or current_request_id()
        if not hasattr(record, "user"):
            record.user = resolved_username(request)
        if not hasattr(record, "route"):
            record.route = resolved_route(request)
        return True


class LazyMessageMiddleware(MessageMiddleware):
    """Django's MessageMiddleware, with the message storage made when it is first used.

    Django builds the storage for every request (two backends, a cookie signer, a few
    imports: a twentieth of a plain view's cost, issue 12's profile), though only the admin
    and the console ever add or show a message. A storage never touched has nothing to store.
    """

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)
