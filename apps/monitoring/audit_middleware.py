"""One audit row per state-changing request (POST, PUT, PATCH, DELETE), API and admin alike.

The row says who (the user the authentication that actually ran resolved, and how: session,
JWT or API key), from where (client IP), what (method and the URL *pattern*, never the raw
path, the query or the body), how it ended (status, outcome) and how long it took, with the
request id that links it to the service-level events the request recorded (their before and
after values). Reads cost nothing: the middleware steps aside for them.

DRF authenticates inside the view, not in a middleware; its Request sets the resolved user
and auth on the Django request (`request.user`, `request.auth`), so they are read here once
the view has run. A request no URL pattern matches changes nothing and is not recorded; one
refused by a middleware before its view (a 413) is. A 429 (throttled, or a locked-out login)
is not: it changed nothing, and a guessing flood must not cost a chained, serialized INSERT
per refusal (the lockout itself is audited once by apps/security, and the refusals are
counted as security events).

Writing the row must never fail the request: a database error is logged, not raised (and
during a known outage not even logged: the breaker reports the outage once).
"""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from rest_framework_simplejwt.tokens import Token

from apps.core.pools.unavailable import database_unavailable_error
from apps.monitoring.models import AuditEvent
from apps.monitoring.services import audit_request_record
from apps.security.api_keys.models import ApiKey
from apps.security.client_ip import client_ip

logger = logging.getLogger(__name__)

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOO_MANY_REQUESTS = 429
NOT_RECORDED = "Audit row for %s %s (%s) not written: %s"


class AuditMiddleware:
    """Records every state-changing request in the audit log, after its view has run."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in STATE_CHANGING:
            return self.get_response(request)
        at, started = timezone.now(), time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 3)
        if response.status_code == TOO_MANY_REQUESTS:
            return response
        route = _route(request)
        if route is not None:
            _record(request, response, route=route, at=at, duration_ms=duration_ms)
        return response


def _route(request: HttpRequest) -> str | None:
    """The URL pattern of the request; None if no pattern matches its path."""
    match = getattr(request, "resolver_match", None)
    if match is None:  # refused by a middleware before URL resolution
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return None
    return match.route


def auth_kind(request: HttpRequest) -> str:
    """How the request's user was authenticated: api_key:<prefix>, jwt, session or ""."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return ""
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        return f"api_key:{auth.prefix}"
    if isinstance(auth, Token):
        return "jwt"
    return "session"


def _source(request: HttpRequest) -> str:
    return AuditEvent.Source.ADMIN if request.path.startswith("/admin/") else AuditEvent.Source.API


def _record(
    request: HttpRequest, response: HttpResponse, *, route: str, at, duration_ms: float
) -> None:
    user = getattr(request, "user", None)
    try:
        event = audit_request_record(
            actor=user,
            auth=auth_kind(request),
            source=_source(request),
            method=request.method,
            route=route,
            status=response.status_code,
            duration_ms=duration_ms,
            at=at,
            ip=client_ip(request),
            request_id=getattr(request, "request_id", ""),
        )
    except DatabaseError as exc:
        if database_unavailable_error(exc) is None:
            logger.error(NOT_RECORDED, request.method, route, response.status_code, exc)
        return
    logger.info(
        "%s %s %s",
        request.method,
        route,
        response.status_code,
        extra={
            "user": event.actor_name,
            "route": route,
            "status": response.status_code,
            "duration_ms": duration_ms,
        },
    )
