"""Every login path, guarded and audited the same way.

The login paths are the JWT token endpoint, the admin's login form, the browsable API's
login form and the console's. `LoginGuardMiddleware` sits near the top of the middleware
stack and refuses a login POST with a 429 problem (and Retry-After) before the view runs,
so before any password is hashed, when the client is over the login rate or locked out.
Failed logins are counted and audited by the lockout handler (apps/security/lockout.py,
through django-axes); successful ones by `AuditedModelBackend`, because the token endpoint
authenticates without sending Django's `user_logged_in` signal.
"""

from __future__ import annotations

import functools
import json
import math

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from rest_framework_simplejwt.views import TokenObtainPairView, TokenObtainSlidingView

from apps.monitoring.services import audit_record
from apps.security.client_ip import client_ip
from apps.security.lockout import (
    LOCKED_OUT,
    failures_forget,
    lock_status,
    login_source,
    retry_after,
    too_many_response,
)
from apps.security.throttling import login_throttle_wait

LOGIN_THROTTLED = "Too many login attempts from this client. Try again in {seconds} s."
# Django login views by URL name; JWT token views by class, wherever they are routed.
LOGIN_VIEW_NAMES = frozenset({"admin:login", "rest_framework:login", "console-login"})
TOKEN_VIEW_CLASSES = (TokenObtainPairView, TokenObtainSlidingView)


def is_login_request(request: HttpRequest) -> bool:
    """A POST to one of the login views."""
    return request.method == "POST" and _is_login_path(request.path_info)


@functools.lru_cache(maxsize=1024)
def _is_login_path(path: str) -> bool:
    # Memoised: a flood of guesses at one URL should not pay for URL resolution each time.
    try:
        match = resolve(path)
    except Resolver404:
        return False
    if match.view_name in LOGIN_VIEW_NAMES:
        return True
    view_class = getattr(match.func, "view_class", None)
    return view_class is not None and issubclass(view_class, TOKEN_VIEW_CLASSES)


def login_username(request: HttpRequest) -> str | None:
    """The username a login POST names (form or JSON body), without running the view."""
    field = str(settings.AXES_USERNAME_FORM_FIELD)
    try:
        if request.content_type == "application/json":
            data = json.loads(request.body or b"{}")
            value = data.get(field) if isinstance(data, dict) else None
        else:
            value = request.POST.get(field)
    except (ValueError, RecursionError, SuspiciousOperation):  # the view answers 400 or 413
        return None
    return value if isinstance(value, str) else None


def login_refusal(request: HttpRequest) -> HttpResponse | None:
    """The 429 for a login attempt that must not be tried now, or None."""
    wait = login_throttle_wait(request)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        return too_many_response(LOGIN_THROTTLED.format(seconds=seconds), seconds)
    lock = lock_status(username=login_username(request), ip=client_ip(request))
    if lock is not None:
        seconds = retry_after(lock)
        return too_many_response(LOCKED_OUT.format(seconds=seconds), seconds)
    return None


class LoginGuardMiddleware:
    """Refuses throttled and locked-out login attempts before the login view runs."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and is_login_request(request):
            refusal = login_refusal(request)
            if refusal is not None:
                # Not one log line per refused guess: a flood would spend its CPU on logging.
                # The throttle's counters and the lockout's audit row tell the story.
                refusal._has_been_logged = True
                return refusal
        return self.get_response(request)


class AuditedModelBackend(ModelBackend):
    """Django's model backend that audits each successful login made over the network."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and request is not None:
            failures_forget(username=user.get_username(), ip=client_ip(request))
            audit_record(
                actor=user,
                source=login_source(request),
                action="login.succeeded",
                target=f"user:{user.get_username()}",
                detail=f"password accepted at {request.path}",
            )
        return user
