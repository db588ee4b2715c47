"""Counts every HTTP request: one counter increment and one histogram observation.

Outermost in MIDDLEWARE, so the time covers every other middleware and the status is the
one the client gets (a 503 from the database guard, a 413, a 429 included). The route label
is the URL pattern that matched (`request.resolver_match.route`, known once the view ran),
written as a template (`/api/v1/jobs/{pk}/`), never the raw path: ids, typos and scanners'
paths cannot grow the number of series. A path that matched nothing is `unmatched`.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from apps.monitoring.metrics import definitions as m
from apps.monitoring.metrics.live import ensure_publisher

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")

# (route, method, status class) -> (counter child, histogram child): labels() takes a lock
# and builds a key on every call; a dict lookup is cheaper on the hot path.
_children: dict[tuple[str, str, str], tuple] = {}


@functools.lru_cache(maxsize=1024)
def route_template(route: str) -> str:
    """A URL pattern as a template: `api/v1/jobs/(?P<pk>\\d+)/$` -> `/api/v1/jobs/{pk}/`."""
    text = _REGEX_GROUP.sub(r"{\1}", route.replace("^", "").replace("$", ""))
    return "/" + _CONVERTER.sub(r"{\1}", text)


def route_label(request: HttpRequest, status: int) -> str:
    match = request.resolver_match
    if match is None and status != 404:
        # Answered before URL resolution (413, 429, 503 from a middleware): still its route.
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return UNMATCHED
    return UNMATCHED if match is None else route_template(match.route)


def record_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request and observe its duration."""
    method = method if method in METHODS else OTHER_METHOD
    key = (route, method, f"{status // 100}xx")
    children = _children.get(key)
    if children is None:
        children = (m.HTTP_REQUESTS.labels(*key), m.HTTP_DURATION.labels(route, method))
        _children[key] = children
    children[0].inc()
    children[1].observe(seconds)


class MetricsMiddleware:
    """resync_http_requests_total and resync_http_request_duration_seconds."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        status = response.status_code
        record_request(route_label(request, status), request.method or "", status, elapsed)
        ensure_publisher()
        return response
