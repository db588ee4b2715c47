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
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.cache.flight import get_or_compute
from apps.core.api.query_params import allowed_query_params, query_params_check
from apps.core.plan_generation import plan_generation

JSON = "application/json"
CACHE_HEADER = "X-Resync-Cache"
_renderer = JSONRenderer()
# (name, scheme, host, raw query string) -> the digest part of the key. Clients repeat the
# same few URLs, and normalising and hashing one was a tenth of a cache hit's cost (issue 12's
# profile). Bounded: once full, further URLs are computed each time, never stored.
_digests: dict[tuple[str, str, str, str], str] = {}
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
    response = HttpResponse(body, content_type=JSON)
    response[CACHE_HEADER] = "miss" if computed else "hit"
    return response


def response_key(request: HttpRequest | Request, name: str) -> str:
    """``api:<name>:g<generation>:<digest of host and sorted query>``.

    Views refuse unknown and repeated parameters before this runs (base.StrictQueryParamsMixin),
    and a repeatable filter is a set, so sorting and de-duplicating its values leaves callers
    no way to mint keys for the same answer (`status=Error&status=Error...`).
    """
    seen = (name, request.scheme, request.get_host(), request.META.get("QUERY_STRING", ""))
    digest = _digests.get(seen)
    if digest is None:
        digest = _digest(request, scheme=seen[1], host=seen[2])
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


# Accept headers for which DRF's content negotiation is known to pick the JSON renderer with
# the media type `cached_json` caches (`application/json`, not `...; charset=...`). Anything
# else negotiates as usual (the browsable API, a 406).
PLAIN_JSON_ACCEPTS = frozenset({"*/*", JSON})


class CachedReadMixin:
    """Serves a cache hit through DRF's dispatch minus what a hit does not need.

    A cached plan read paid more for DRF's dispatch than for its own work (issue 12's
    profile): content negotiation, the handler and `cached_json`'s wrapping around a body
    that is already rendered. When the request is a GET whose negotiation, format and query
    parameters are settled beforehand (JSON, no format, parameters the view takes) and the
    cache holds the body, this dispatch runs what still decides the answer, the view's own
    authentication, permission and throttle checks, then serves the bytes; an error
    goes through DRF's exception handler and `finalize_response` (freshness headers) as
    before. Everything else, a miss included, takes DRF's dispatch unchanged.

    Nothing with a side effect runs before the hit is known (the cache lookup has none), so
    a miss is dispatched exactly once: one throttle count, one authentication.
    """

    def cached_read_name(self, kwargs: dict) -> str | None:
        """The `cached_json` name of this GET, or None for a view it does not cache."""
        raise NotImplementedError

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        body = self._cached_body(request, kwargs)
        if body is None:
            return super().dispatch(request, *args, **kwargs)
        return self._dispatch_hit(request, body, args, kwargs)

    def _cached_body(self, request: HttpRequest, kwargs: dict) -> bytes | None:
        if (
            request.method != "GET"
            or not settings.API_CACHE_ENABLED
            or request.META.get("HTTP_ACCEPT", "*/*") not in PLAIN_JSON_ACCEPTS
            or not _renders_json_first(type(self))
            or self.get_format_suffix(**kwargs)  # `.json` on the URL: DRF's own path
        ):
            return None
        name = self.cached_read_name(kwargs)
        if name is None or api_settings.URL_FORMAT_OVERRIDE in request.GET:
            return None
        try:
            query_params_check(request.GET, allowed_query_params(self))
        except ValidationError:
            return None  # DRF's path answers 401/403 before the 400, as it always did
        return caches["default"].get(response_key(request, name))

    def _dispatch_hit(self, request: HttpRequest, body: bytes, args, kwargs) -> HttpResponse:
        # APIView.dispatch and initial(), with negotiation's answer known and the handler's
        # answer in hand.
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.format_kwarg = None
            request.accepted_renderer, request.accepted_media_type = self._json_renderer(), JSON
            version, scheme = self.determine_version(request, *args, **kwargs)
            request.version, request.versioning_scheme = version, scheme
            self.perform_authentication(request)
            self.check_permissions(request)
            self.check_throttles(request)
            response = HttpResponse(body, content_type=JSON)
            response[CACHE_HEADER] = "hit"
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def _json_renderer(self) -> JSONRenderer:
        return self.renderer_classes[0]()


@functools.cache
def _renders_json_first(view_class: type) -> bool:
    """Negotiation picks the view's first renderer for `*/*` and for JSON if it is DRF's JSON
    renderer (per class: the renderers are class attributes)."""
    first = view_class.renderer_classes[0] if view_class.renderer_classes else None
    return first is not None and issubclass(first, JSONRenderer) and first.media_type == JSON
