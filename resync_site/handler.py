"""Resync's WSGI handler: Django's, with the resolution of fixed routes remembered.

Django resolves every request's path afresh. For a plan read that is three nested resolvers,
a failed match of the admin's, a dozen patterns and three ResolverMatch objects: an eighth of
a cached read's cost, and twice what the same resolution costs a route at the top of the
URLconf (issue 12's profile). A route without parameters always resolves the same way for
the same URLconf (there are no i18n_patterns here), so its match is kept and reused.

Only matches with no arguments are kept (`jobs/status/`, `jobs/`, `health/`...): their
number is bounded by the URLconf, not by what clients send, and a match whose arguments a
view middleware could alter is never shared between requests. A path that does not resolve
(a 404) is resolved, and refused, each time.
"""

from __future__ import annotations

from django.core.handlers.wsgi import WSGIHandler
from django.urls import ResolverMatch, URLResolver, get_resolver

# More than the URLconf's fixed routes; a bound all the same, should a pattern without
# parameters match many paths (a regex route).
ROUTES_MAX = 512


class ResyncWSGIHandler(WSGIHandler):
    def resolve_request(self, request) -> ResolverMatch:
        if hasattr(request, "urlconf"):  # a middleware chose the URLconf: Django's way
            return super().resolve_request(request)
        resolver = get_resolver()  # a new object when ROOT_URLCONF changes (tests)
        routes = _routes(resolver)
        match = routes.get(request.path_info)
        if match is None:
            match = resolver.resolve(request.path_info)  # raises Resolver404 as always
            if not (match.args or match.kwargs) and len(routes) < ROUTES_MAX:
                routes[request.path_info] = match
        request.resolver_match = match
        return match


def _routes(resolver: URLResolver) -> dict[str, ResolverMatch]:
    # Kept on the resolver, so a new URLconf (clear_url_caches) starts with none.
    routes = resolver.__dict__.get("_resync_routes")
    if routes is None:
        routes = resolver.__dict__.setdefault("_resync_routes", {})
    return routes
