"""What the console's layout (templates/console/base.html) links to, worked out once.

Every page renders the layout; reversing its URLs and hashing its static names per request
was about half of the layout's cost (issue 13's profile: 4 `{% url %}` and 3 `{% static %}`
per page, plus the menu's reverses). URLs and hashed names only change with a deploy, so
they are computed once per process and script prefix (a deployment under a sub-path).
"""

from __future__ import annotations

import threading
from functools import cache

from cachetools import LRUCache
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.session import SessionStorage
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse

from apps.security.permissions import ACT_ON_JOB, VIEW_MONITORING, VIEW_PLAN, request_allows

# The console's menu: (URL name, label, permission to show it).
NAVIGATION = (
    ("home", "Overview", VIEW_PLAN),
    ("console-jobs", "Jobs", VIEW_PLAN),
    ("console-streams", "Job streams", VIEW_PLAN),
    ("console-workstations", "Workstations", VIEW_PLAN),
    ("console-assistant", "Assistant", VIEW_PLAN),
    ("console-system", "System", VIEW_MONITORING),
)
LINKS = {
    "home": "home",
    "admin": "admin:index",
    "api_docs": "api-docs",
    "logout": "console-logout",
}
ASSETS = {
    "icon": "core/favicon.svg",
    "css": "console/console.css",
    "js": "console/console.js",
}


@cache
def _links(prefix: str) -> dict[str, str]:
    links = {key: reverse(name) for key, name in LINKS.items()}
    links.update({key: static(path) for key, path in ASSETS.items()})
    links.update({name: reverse(name) for name, _label, _permission in NAVIGATION})
    return links


def layout_links() -> dict[str, str]:
    return _links(get_script_prefix())


def layout(request: HttpRequest) -> dict:
    """Context processor: the layout's links, for every template (the login page too)."""
    return {"links": layout_links()}


def console_context(request: HttpRequest, section: str) -> dict:
    """What the layout needs per user: the menu they may use, and what they may do."""
    links = layout_links()
    menu = [
        {"url": links[name], "label": label, "current": name == section}
        for name, label, permission in NAVIGATION
        if request_allows(request, permission)
    ]
    return {"menu": menu, "may_act": request_allows(request, ACT_ON_JOB)}


# --- whole pages of shared content --------------------------------------------------------
# The overview and the jobs list hold content rendered once per plan generation and minute
# (shared by every user); what is left per request is the layout around it, ~200 us of
# template work for the same few inputs each time (issue 13's profile). So the whole page
# is kept per process for each (content, layout) pair, with a mark where the CSRF token
# goes: the token is masked anew for every response, as Django requires.
CSRF_MARK = "csrf0mark0for0a0page0kept0whole0"  # letters and digits: escaping keeps it as is
PAGES_MAX = 128  # pages of ~40-60 KB: at most ~8 MB per process
_pages: LRUCache = LRUCache(maxsize=PAGES_MAX)
_pages_lock = threading.Lock()


def layout_key(request: HttpRequest, context: dict) -> tuple:
    """Everything of the user the layout shows: their name, staff link, menu and rights."""
    user = request.user
    menu = tuple((entry["url"], entry["current"]) for entry in context["menu"])
    return (user.get_username(), user.is_staff, menu, context["may_act"])


def has_messages(request: HttpRequest) -> bool:
    """Whether a message waits to be shown (a page with one is rendered, never kept)."""
    return bool(
        request.COOKIES.get(CookieStorage.cookie_name)
        or request.session.get(SessionStorage.session_key)
    )


def page_shared(
    request: HttpRequest, template: str, context: dict, *, content_key: tuple
) -> HttpResponse:
    """`template` with `context` (layout included), kept whole for this content and layout."""
    key = (template, content_key, layout_key(request, context))
    with _pages_lock:
        html = _pages.get(key)
    if html is None:
        html = render_to_string(
            template, {**context, "csrf_token": CSRF_MARK, "messages": ()}, request
        )
        with _pages_lock:
            _pages[key] = html
    return HttpResponse(html.replace(CSRF_MARK, get_token(request)))


def pages_forget() -> None:
    """Forget the kept pages (tests)."""
    with _pages_lock:
        _pages.clear()
