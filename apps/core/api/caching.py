"""Cached plan reads: the rendered JSON, keyed by the plan generation.

Rendering (DRF serialization) is the main cost of a plan read, so the cache holds the
response body as bytes: a hit is one cache lookup and no serializer at all. Keys hold the
plan generation (``apps.core.plan_generation``), the host (pagination links are absolute)
and the normalised query string, so a write to the mirror moves every read to new keys and
a long TTL never serves data older than that write.

Only successful JSON reads are cached; errors (bad filters, unknown ids) propagate as
usual, and the browsable API is served uncached. Authentication and permissions run before
the handler, so the cache never bypasses them; plan reads do not depend on the user.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils.http import urlencode
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.cache.flight import get_or_compute
from apps.core.api.base import JSON, LeanAnswer, LeanDispatchMixin
from apps.core.plan_generation import plan_generation

CACHE_HEADER = "X-Resync-Cache"
_renderer = JSONRenderer()
# (name, scheme, what the host is read from, raw query string) -> the digest part of the key.
# Clients repeat the same few URLs, and normalising and hashing one was a tenth of a cache
# hit's cost (issue 12's profile); so was working out the host again (get_host() parses and
# validates it; CommonMiddleware did so for this request already). Bounded: once full,
# further URLs are computed each time, never stored.
_digests: dict[tuple, str] = {}
# The request headers and server variables get_host() reads (USE_X_FORWARDED_HOST decides
# whether the first counts; keying on it either way is merely finer).
_HOST_FROM = ("HTTP_X_FORWARDED_HOST", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT")
DIGESTS_MAX = 4096


class _NotCacheable(Exception):
    """A handler answered with something other than a plain 200."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


def cached_json(request: Request, name: str, handler: Callable[[], Response]) -> HttpResponse:
    """``handler()``'s response, served from the cache as rendered JSON when possible."""
    if not settings.API_CACHE_ENABLED or request.accepted_media_type != JSON:
        return handler()
    computed = []

    def render() -> bytes:
        response = handler()
        if response.status_code != 200:
            raise _NotCacheable(response)
        computed.append(True)
        return _renderer.render(response.data)

    try:
        body = get_or_compute(response_key(request, name), render)
    except _NotCacheable as exc:
        return exc.response
    return _served(body, "miss" if computed else "hit")


def response_key(request: HttpRequest | Request, name: str) -> str:
    """``api:<name>:g<generation>:<digest of host and sorted query>``.

    Views refuse unknown and repeated parameters before this runs (base.StrictQueryParamsMixin),
    and a repeatable filter is a set, so sorting and de-duplicating its values leaves callers
    no way to mint keys for the same answer (`status=Error&status=Error...`).
    """
    meta = request.META
    host_from = tuple(meta.get(variable) for variable in _HOST_FROM)
    seen = (name, request.scheme, host_from, meta.get("QUERY_STRING", ""))
    digest = _digests.get(seen)
    if digest is None:  # get_host() validates the host (DisallowedHost) before it is kept
        digest = _digest(request, scheme=seen[1], host=request.get_host())
        if len(_digests) < DIGESTS_MAX:
            _digests[seen] = digest
    return f"api:{name}:g{plan_generation()}:{digest}"


def _digest(request: HttpRequest | Request, *, scheme: str, host: str) -> str:
    # `GET` rather than DRF's `query_params` (the same QueryDict): the lean dispatch below
    # computes the key before any DRF Request exists.
    params = sorted((name, sorted(set(values))) for name, values in request.GET.lists())
    query = urlencode(params, doseq=True)
    where = f"{scheme}://{host}?{query}"
    return hashlib.blake2b(where.encode(), digest_size=16).hexdigest()


class CachedReadMixin(LeanDispatchMixin):
    """Serves a cache hit of a plan read through the lean dispatch (base.LeanDispatchMixin).

    A cached plan read paid more for DRF's dispatch than for its own work (issue 12's
    profile): content negotiation, the handler and `cached_json`'s wrapping around a body
    that is already rendered. A hit skips them; a miss, the cache turned off or anything
    the lean dispatch does not take goes through DRF's dispatch and `cached_json`, so the
    cached body is the same one either way. The lookup has no side effect, so a miss is
    dispatched once: one throttle count, one authentication.
    """

    def cached_read_name(self, kwargs: dict) -> str | None:
        """The `cached_json` name of this GET, or None for a view it does not cache."""
        raise NotImplementedError

    def lean_answer(self, request: HttpRequest, kwargs: dict) -> LeanAnswer | None:
        if not settings.API_CACHE_ENABLED:
            return None
        name = self.cached_read_name(kwargs)
        if name is None:
            return None
        body = caches["default"].get(response_key(request, name))
        return None if body is None else functools.partial(_hit, body)


def _hit(body: bytes, request: Request) -> HttpResponse:
    return _served(body, "hit")


def _served(body: bytes, cache_state: str) -> HttpResponse:
    """The rendered JSON, saying whether it came from the cache."""
    response = HttpResponse(body, content_type=JSON)
    response[CACHE_HEADER] = cache_state
    return response
