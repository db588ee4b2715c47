"""What the console's layout (templates/console/base.html) links to, worked out once.

Every page renders the layout; reversing its URLs and hashing its static names per request
was about half of the layout's cost (issue 13's profile: 4 `{% url %}` and 3 `{% static %}`
per page, plus the menu's reverses). URLs and hashed names only change with a deploy, so
they are computed once per process and script prefix (a deployment under a sub-path).
"""

from __future__ import annotations

from functools import cache

from django.http import HttpRequest
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
