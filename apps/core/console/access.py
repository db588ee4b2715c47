"""Who may open a console page: signed in, and holding the permission the view declares.

A console view declares `required_permission` exactly as an API view does (one permission,
or a {method: permission} mapping; apps/security/permissions.py). Anonymous visitors go to
the console's sign-in page (any role may sign in there: the admin's form lets only staff
in); a signed-in user without the permission gets a 403 page saying which one is missing,
and so does a forged POST (a viewer posting a job action).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils.crypto import constant_time_compare
from django.views import View
from rest_framework.exceptions import AuthenticationFailed

from apps.core.console.layout import console_context, has_messages, page_shared
from apps.security.authentication import user_remembered
from apps.security.permissions import request_allows, rule_for

LOGIN_URL_NAME = "console-login"
NOT_PERMITTED = "Your account does not hold the permission this page needs ({permission})."
NO_ROLE = "Ask an administrator for a role (viewer, operator, administrator or auditor)."


class ConsoleView(View):
    """Base of every console page: sign-in, the declared permission, the menu."""

    required_permission: Any = None
    # The menu entry this page belongs to (a URL name from NAVIGATION).
    section = ""

    def setup(self, request: HttpRequest, *args, **kwargs) -> None:
        super().setup(request, *args, **kwargs)
        remembered = session_user(request)
        if remembered is not None:
            request.user = remembered

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse(LOGIN_URL_NAME))
        permission = rule_for(self, request.method)
        if permission is None or not request_allows(request, permission):
            return forbidden(request, permission)
        return super().dispatch(request, *args, **kwargs)

    def render(self, request: HttpRequest, template: str, context: dict, status: int = 200):
        return TemplateResponse(request, template, self._page(request, context), status=status)

    def render_shared(self, request: HttpRequest, template: str, context: dict, *, content_key):
        """`render` for a page whose content is shared and named by `content_key`: the whole
        page is kept per layout (layout.page_shared), unless a message waits to be shown."""
        if has_messages(request):
            return self.render(request, template, context)
        return page_shared(request, template, self._page(request, context), content_key=content_key)

    def _page(self, request: HttpRequest, context: dict) -> dict:
        """The view's context within the layout's (menu, rights)."""
        return {**console_context(request, self.section), **context}


def session_user(request: HttpRequest):
    """The session's user from the JWT path's user cache (apps.security.authentication:
    the row and its permissions, a few seconds per process, evicted on changes), saving the
    three queries Django's session login costs per page; None when anything is not plainly
    in order, and Django's own check (which also signs out a stale session) decides."""
    session = request.session
    user_id = session.get(SESSION_KEY)
    if user_id is None or session.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
        return None
    try:
        user = user_remembered(user_id)
    except AuthenticationFailed:
        return None
    stored = session.get(HASH_SESSION_KEY) or ""
    if not user.is_active or not constant_time_compare(stored, user.get_session_auth_hash()):
        return None
    return user


def forbidden(request: HttpRequest, permission: str | None) -> HttpResponse:
    context = {
        **console_context(request, ""),
        "message": NOT_PERMITTED.format(permission=permission or "none declared"),
        "hint": NO_ROLE,
    }
    return TemplateResponse(request, "console/forbidden.html", context, status=403)


class ConsoleLoginView(auth_views.LoginView):
    """Sign in to the console (guarded, locked out and audited as every login path)."""

    template_name = "console/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("home")


class ConsoleLogoutView(auth_views.LogoutView):
    """Sign out (POST only, as Django requires)."""

    next_page = reverse_lazy(LOGIN_URL_NAME)
