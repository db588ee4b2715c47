"""Shared API behaviour: every API view derives from these."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponseBase
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSetMixin

from apps.core.api.query_params import allowed_query_params, query_params_check
from apps.core.selectors.sync import plan_freshness

SYNCED_AT_HEADER = "X-Plan-Synced-At"
SYNC_STATUS_HEADER = "X-Plan-Sync-Status"
JSON = "application/json"


class StrictQueryParamsMixin:
    """A query parameter the view does not take is a 400 naming it (see query_params).

    Checked after authentication and permissions, so an anonymous caller still gets 401, and
    only for a method the view has (`TRACE /jobs/?status=Error` is a 405, not a 400).
    """

    # Parameters a view reads itself, beyond filters, ordering, pagination and format.
    extra_query_params: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if getattr(self, request.method.lower(), None) is None:
            return  # no handler for this method: dispatch answers 405, whatever the query
        query_params_check(request.query_params, allowed_query_params(self))


class BaseAPIView(StrictQueryParamsMixin, APIView):
    """Base of every API view that is not a viewset."""


class PlanFreshnessMixin:
    """Says how fresh the mirror is on every response: served even when HWA is down."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        freshness = plan_freshness()
        if freshness.synced_at is not None:
            response[SYNCED_AT_HEADER] = freshness.synced_at.isoformat()
        response[SYNC_STATUS_HEADER] = freshness.status
        return response


class ReadOnlyViewSet(StrictQueryParamsMixin, PlanFreshnessMixin, viewsets.ReadOnlyModelViewSet):
    """List and retrieve, authenticated, paginated, filtered; numeric ids only."""

    lookup_value_regex = r"\d+"


# What a lean dispatch serves once the checks pass: the response for the DRF request.
LeanAnswer = Callable[[Request], HttpResponseBase]
# Accept headers for which DRF's content negotiation is known to pick the first renderer,
# when that is the JSON renderer, with the media type `application/json` (not
# `...; charset=...`, which `cached_json` does not cache). Anything else negotiates as usual
# (the browsable API, a 406).
PLAIN_JSON_ACCEPTS = frozenset({"*/*", JSON})


class LeanDispatchMixin:
    """DRF's dispatch minus what a GET whose answer is already known does not need.

    DRF's dispatch cost a cached plan read or a health poll more than the view's own work
    (issue 12's profile). When a GET's negotiation, format and query parameters are settled
    beforehand (plain JSON, no format, only parameters the view takes) and the view has its
    answer at hand (`lean_answer`), this runs what still decides the response, exactly as
    DRF's `initial()` does: the view's own authentication, permission and throttle checks,
    then the answer; an error goes through DRF's exception handler (the one problem format)
    and `finalize_response` (Allow, Vary, the view's own headers). Anything else takes DRF's
    dispatch unchanged, so a bad parameter is still refused after authentication.
    """

    def lean_answer(self, request: HttpRequest, kwargs: dict) -> LeanAnswer | None:
        """The answer once the checks pass, or None for DRF's dispatch. No side effects:
        nothing has been checked yet."""
        raise NotImplementedError

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        answer = self._lean_answer(request, kwargs)
        if answer is None:
            return super().dispatch(request, *args, **kwargs)
        return self.lean_respond(request, args, kwargs, lambda request: self._checked(answer))

    def lean_respond(
        self, request: HttpRequest, args: tuple, kwargs: dict, respond: LeanAnswer
    ) -> HttpResponseBase:
        """APIView.dispatch around `respond` instead of initial() and the handler, with
        content negotiation's result known (JSON)."""
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.format_kwarg = None
            request.accepted_renderer, request.accepted_media_type = self._json_renderer(), JSON
            version, scheme = self.determine_version(request, *args, **kwargs)
            request.version, request.versioning_scheme = version, scheme
            response = respond(request)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def _checked(self, answer: LeanAnswer) -> HttpResponseBase:
        # The rest of APIView.initial(), in its order.
        self.perform_authentication(self.request)
        self.check_permissions(self.request)
        self.check_throttles(self.request)
        return answer(self.request)

    def lean_eligible(self, request: HttpRequest, kwargs: dict) -> bool:
        """A plain JSON GET whose format and query parameters are settled."""
        if (
            request.method != "GET"
            or request.META.get("HTTP_ACCEPT", "*/*") not in PLAIN_JSON_ACCEPTS
            or not _renders_json_first(type(self))
            or self.get_format_suffix(**kwargs)  # `.json` on the URL
        ):
            return False
        if isinstance(self, ViewSetMixin):
            # The route fixed the action (as_view's map); DRF's initialize_request sets the
            # same value later. The parameters a viewset takes depend on it (list or not).
            self.action = self.action_map.get("get")
        return not request.META.get("QUERY_STRING") or self._lean_query(request)

    def _lean_answer(self, request: HttpRequest, kwargs: dict) -> LeanAnswer | None:
        if not self.lean_eligible(request, kwargs):
            return None
        return self.lean_answer(request, kwargs)

    def _lean_query(self, request: HttpRequest) -> bool:
        try:
            if api_settings.URL_FORMAT_OVERRIDE in request.GET:
                return False
            query_params_check(request.GET, allowed_query_params(self))
        except (ValidationError, SuspiciousOperation):
            # DRF's dispatch answers 401/403 before the 400, as it always did, and a query
            # Django refuses to parse (too many fields) becomes the one problem format there.
            return False
        return True

    # The authenticators, parsers and negotiator hold no per-request state, and a view's
    # classes are fixed: made once per set of classes, not three to seven objects per request.
    def get_authenticators(self) -> list:
        return list(_instances(tuple(self.authentication_classes)))

    def get_parsers(self) -> list:
        return list(_instances(tuple(self.parser_classes)))

    def get_content_negotiator(self):
        return _instances((self.content_negotiation_class,))[0]

    @property
    def default_response_headers(self) -> dict[str, str]:
        # Allow and Vary depend on the class alone (not on a viewset, whose methods are
        # bound per route; those never take this path). A copy: finalize_response pops Vary.
        if isinstance(self, ViewSetMixin):
            return super().default_response_headers
        headers = _response_headers.get(type(self))
        if headers is None:
            headers = _response_headers[type(self)] = super().default_response_headers
        return dict(headers)

    def _json_renderer(self) -> JSONRenderer:
        return self.renderer_classes[0]()


_response_headers: dict[type, dict[str, str]] = {}


@functools.cache
def _instances(classes: tuple[type, ...]) -> tuple:
    return tuple(cls() for cls in classes)


@functools.cache
def _renders_json_first(view_class: type) -> bool:
    """Negotiation picks a view's first renderer for `*/*` and for JSON if that is DRF's JSON
    renderer (per class: renderers are class attributes, the same for every action)."""
    if not view_class.renderer_classes:
        return False
    first = view_class.renderer_classes[0]
    return issubclass(first, JSONRenderer) and first.media_type == JSON
