"""Monitoring API views: liveness, readiness, health, and the Prometheus scrape."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ParseError, Throttled
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.authentication import JWTAuthentication

from apps.core.api.base import (
    JSON,
    BaseAPIView,
    LeanAnswer,
    LeanDispatchMixin,
    StrictQueryParamsMixin,
)
from apps.monitoring import metrics, selectors
from apps.monitoring.api.parsers import (
    CSP_REPORT_SCHEMA,
    REPORTS_SCHEMA,
    CspReportParser,
    CspViolation,
    ReportsJsonParser,
)
from apps.monitoring.api.serializers import AuditEventSerializer, SecurityEventSerializer
from apps.monitoring.filters import AuditEventFilter, SecurityEventFilter
from apps.monitoring.models import SecurityEvent
from apps.monitoring.selectors import (
    DEGRADED,
    HEALTHY,
    UNHEALTHY,
    audit_event_list,
    health_report,
    health_status,
    readiness_report,
    readiness_status,
)
from apps.monitoring.services import security_event_record
from apps.security.api_keys.authentication import ApiKeyAuthentication
from apps.security.client_ip import client_ip, ip_in_networks
from apps.security.permissions import PUBLIC, VIEW_MONITORING, request_allows, rule_for
from apps.security.throttling import ClientIpThrottle, CspReportThrottle

NO_REPORT = "Send a CSP report: application/csp-report or application/reports+json."
CSP_DETAIL = "{disposition}: {directive} blocked {blocked} on {document}"

ALIVE = "alive"

_REPORT = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(["healthy", "degraded", "unhealthy"]),
        "components": serializers.DictField(required=False),
    },
)


class _ReportView(LeanDispatchMixin, BaseAPIView):
    """Public overall status; monitoring readers also see each component, its timing and
    what is wrong. 503 when unhealthy. Users are read lazily: it must answer while they
    cannot be (a database outage).

    A plain JSON GET takes the lean dispatch (core.api.base.LeanDispatchMixin): the same
    throttle and lazy authentication, and the public answer is one of three bodies rendered
    once, so a poll costs little more than a plain Django view (issue 12)."""

    required_permission = PUBLIC
    throttle_classes = [ClientIpThrottle]
    report = staticmethod(health_report)
    report_status = staticmethod(health_status)

    def perform_authentication(self, request: Request) -> None:
        """Authenticate lazily (in `get`): health must answer while users cannot be read."""

    def get(self, request: Request) -> Response:
        report = self.report()
        body = report if _shows_details(request) else {"status": report["status"]}
        return Response(body, status=_http_status(report["status"]))

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if self.lean_eligible(request, kwargs) and _public_poll(self, request):
            return self._public_answer(request, args, kwargs)
        return super().dispatch(request, *args, **kwargs)

    def _public_answer(self, request: HttpRequest, args: tuple, kwargs: dict) -> HttpResponseBase:
        """The answer to a poll that carries no credentials, without DRF's Request.

        Such a caller is anonymous whatever the authenticators would say, so it is shown the
        status alone; the permission is PUBLIC and the throttle reads the address only
        (`_serves_public_polls`). DRF's skeleton around that cost more than a plain Django
        view (issue 12's profile); a refusal still goes through DRF's exception handler.
        """
        try:
            self.check_throttles(request)
        except Throttled as refusal:
            return self.lean_respond(request, args, kwargs, functools.partial(_raise, refusal))
        response = _public_response(self.report_status())
        # The answer depends on the session (a signed-in monitoring reader sees more): say
        # so as DRF's session authentication does by reading it (SessionMiddleware adds
        # Vary: Cookie). There is no session to read.
        request.session.accessed = True
        self.headers = self.default_response_headers
        return self.finalize_response(request, response, *args, **kwargs)

    def lean_answer(self, request: HttpRequest, kwargs: dict) -> LeanAnswer:
        return self._lean_get

    def _lean_get(self, request: Request) -> HttpResponseBase:
        if _shows_details(request):
            return self.get(request)  # a monitoring reader: the whole report, as before
        return _public_response(self.report_status())


def _public_poll(view: _ReportView, request: HttpRequest) -> bool:
    """No credentials of any kind the view's authenticators read: no Authorization header
    (JWT, API keys), no session, no test client's forced user."""
    session = getattr(request, "session", None)
    return (
        _serves_public_polls(type(view))
        and "HTTP_AUTHORIZATION" not in request.META
        and session is not None
        and session.session_key is None
        and getattr(request, "_force_auth_user", None) is None
        and getattr(request, "_force_auth_token", None) is None
    )


@functools.cache
def _serves_public_polls(view_class: type) -> bool:
    """Its authenticators read only the Authorization header or the session, its permission
    is PUBLIC and its throttles count by address: what `_public_answer` relies on."""
    return (
        all(issubclass(c, _HEADER_OR_SESSION) for c in view_class.authentication_classes)
        and all(issubclass(t, ClientIpThrottle) for t in view_class.throttle_classes)
        and rule_for(view_class, "GET") == PUBLIC
    )


_HEADER_OR_SESSION = (JWTAuthentication, ApiKeyAuthentication, SessionAuthentication)


def _raise(exc: Exception, request: Request) -> HttpResponseBase:
    raise exc


def _http_status(status: str) -> int:
    return 503 if status == UNHEALTHY else 200


# The public answers, rendered as DRF renders them.
_PUBLIC_BODIES = {
    status: JSONRenderer().render({"status": status}) for status in (HEALTHY, DEGRADED, UNHEALTHY)
}


def _public_response(status: str) -> HttpResponse:
    """The status alone, as anyone may see it (one of three bodies rendered once)."""
    return HttpResponse(_PUBLIC_BODIES[status], status=_http_status(status), content_type=JSON)


class HealthView(_ReportView):
    """Every component: database, cache, migrations, plan sync, sync heartbeat."""

    @extend_schema(responses={200: _REPORT, 503: _REPORT})
    def get(self, request: Request) -> Response:
        return super().get(request)


class ReadinessView(_ReportView):
    """Can this instance serve: database, cache (Redis when configured), migrations applied,
    a plan sync process alive. 503 only when unhealthy: degraded still serves."""

    report = staticmethod(readiness_report)
    report_status = staticmethod(readiness_status)

    @extend_schema(responses={200: _REPORT, 503: _REPORT})
    def get(self, request: Request) -> Response:
        return super().get(request)


class LivenessView(BaseAPIView):
    """The process answers: no check, no I/O (no authentication, no rate-limit counter)."""

    required_permission = PUBLIC
    authentication_classes: list = []
    throttle_classes: list = []

    @extend_schema(responses=inline_serializer("Liveness", {"status": serializers.CharField()}))
    def get(self, request: Request) -> Response:
        return Response({"status": ALIVE})


def _shows_details(request: Request) -> bool:
    try:
        return request_allows(request, VIEW_MONITORING)
    except DatabaseError:  # the session or user row cannot be read: answer as to anyone
        return False


class SecurityEventListView(StrictQueryParamsMixin, generics.ListAPIView):
    """Security events, one per address, kind and minute, the most recently seen first."""

    required_permission = VIEW_MONITORING
    queryset = selectors.security_event_list()
    serializer_class = SecurityEventSerializer
    filterset_class = SecurityEventFilter
    ordering_fields = ["last_seen", "first_seen", "count", "severity", "kind", "ip"]
    ordering = ["-last_seen", "-id"]


class CspReportView(BaseAPIView):
    """Where browsers report Content-Security-Policy violations: counted, answered 204.

    Public and unauthenticated (browsers send reports without credentials, and no CSRF
    token), rate-limited per client IP, bodies at most 64 KB (apps.monitoring.api.parsers).
    The violations of one address in one minute are one `csp_violation` security event.
    """

    required_permission = PUBLIC
    authentication_classes = ()
    throttle_classes = [CspReportThrottle]
    parser_classes = [CspReportParser, ReportsJsonParser]

    @extend_schema(
        request={
            CspReportParser.media_type: CSP_REPORT_SCHEMA,
            ReportsJsonParser.media_type: REPORTS_SCHEMA,
        },
        responses={204: None},
    )
    def post(self, request: Request) -> Response:
        violations = request.data
        if not isinstance(violations, list):  # an empty body parses as {}
            raise ParseError(NO_REPORT)
        if violations:
            _record_csp_violations(request, violations)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _record_csp_violations(request: Request, violations: list[CspViolation]) -> None:
    first = violations[0]
    security_event_record(
        kind=SecurityEvent.Kind.CSP_VIOLATION,
        severity=SecurityEvent.Severity.LOW,
        ip=client_ip(request),
        path=urlsplit(first.document_uri).path if "://" in first.document_uri else "",
        pattern=first.directive,
        request_id=getattr(request._request, "request_id", ""),
        detail=CSP_DETAIL.format(
            disposition=first.disposition,
            directive=first.directive or "?",
            blocked=first.blocked_uri or "?",
            document=first.document_uri or "?",
        ),
        count=len(violations),
    )


class AuditEventListView(StrictQueryParamsMixin, generics.ListAPIView):
    """The audit log for auditors: requests and changes, filtered, ordered, paginated."""

    required_permission = VIEW_MONITORING
    queryset = audit_event_list()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering_fields = ["at", "id"]
    ordering = ["-at", "-id"]


class MetricsView(BaseAPIView):
    """Prometheus scrape: every metric of every worker process (text format, or OpenMetrics
    when asked). Allowed to monitoring readers (a user, or an API key with the
    `monitoring:read` scope) and to any client in RESYNC_METRICS_ALLOWED_IPS."""

    required_permission = VIEW_MONITORING
    throttle_classes = [ClientIpThrottle]

    def perform_authentication(self, request: Request) -> None:
        """Lazily: an allowed address needs no user read (and none while they cannot be)."""

    def check_permissions(self, request: Request) -> None:
        if ip_in_networks(client_ip(request), settings.RESYNC_METRICS_ALLOWED_IPS):
            return
        super().check_permissions(request)

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # The scrape body is not rendered by DRF; errors are always JSON problems, whatever
        # Accept says (a scraper may accept text/plain only).
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        responses={(200, "text/plain"): OpenApiResponse(description="Prometheus text format")}
    )
    def get(self, request: Request) -> HttpResponse:
        body, content_type = metrics.render(request.headers.get("Accept"))
        return HttpResponse(body, content_type=content_type)
