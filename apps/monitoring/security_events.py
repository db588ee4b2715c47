"""The security-event middleware: records suspicious requests, and never blocks or changes one.

For every request it looks at the path, the query string (decoded once), a JSON or form
body (at most detection.SCAN_CHARS of it) and the user agent for the patterns in
apps.monitoring.detection, lets the request through untouched, and then records, with the
client IP, the signed-in user, the path and the request id:

- each kind of pattern found (sql_injection, xss, path_traversal, null_byte, scanner);
- every answer of 400 or more (http_error), as the seed's middleware logged them;
- an error_burst once one address has had RESYNC_SECURITY_EVENTS_BURST answers of 401,
  403 or 404 within a minute (counted per process), and for each one after that.

Whatever the pattern, the view and its validation decide the answer: a name such as
O'Brien's "Nightly #2" reaches it exactly as sent, and so does `' OR 1=1--`, which the ORM
treats as the text it is.

Recording costs a request no database work (apps.monitoring.recorder counts in memory),
reads no user that authentication has not already read, and a bug in here is logged, not
raised: detection must never become an outage. Body excerpts are not stored (a body may
hold a password); path and query excerpts are.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from apps.monitoring import recorder as recording
from apps.monitoring.detection import SCAN_CHARS, Finding, scan, scan_user_agent
from apps.monitoring.models import SecurityEvent
from apps.monitoring.services import security_event_record
from apps.security.client_ip import client_ip

logger = logging.getLogger(__name__)

Kind, Severity = SecurityEvent.Kind, SecurityEvent.Severity
SEVERITY = {
    Kind.SQL_INJECTION: Severity.HIGH,
    Kind.XSS: Severity.HIGH,
    Kind.PATH_TRAVERSAL: Severity.HIGH,
    Kind.NULL_BYTE: Severity.MEDIUM,
    Kind.SCANNER: Severity.MEDIUM,
    Kind.ERROR_BURST: Severity.MEDIUM,
}
DENIALS = frozenset({401, 403, 404})
FOUND = "in {where}: {excerpt} (answered {status})"
FOUND_IN_BODY = "in the {content_type} body (answered {status})"
ERROR = "{method} answered {status}; user agent: {user_agent}"
BURST = "{count} answers of 401/403/404 to this address within a minute (threshold {threshold})"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Bodies the API parses as text. CSP reports are not scanned: they quote the violating
# page's script, and the reporting browser (the victim) is not the one to flag.
_FORM, _JSON = "application/x-www-form-urlencoded", "application/json"


class SecurityEventMiddleware:
    """Records suspicious requests and error answers as security events (README)."""

    def __init__(self, get_response) -> None:
        if not settings.RESYNC_SECURITY_EVENTS:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.denials = DenialCounter()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            findings = request_findings(request)
        except Exception:
            logger.exception("Security event detection failed; the request goes on")
            findings = []
        response = self.get_response(request)
        if findings or response.status_code >= 400:
            try:
                self._record(request, response.status_code, findings)
            except Exception:
                logger.exception("Recording a security event failed")
        return response

    def _record(self, request: HttpRequest, status: int, findings: list[Finding]) -> None:
        common = {
            "ip": client_ip(request),
            "path": request.path,
            "user": _authenticated_user(request),
            "request_id": getattr(request, "request_id", ""),
        }
        for finding in findings:
            security_event_record(
                kind=finding.kind,
                severity=SEVERITY[finding.kind],
                pattern=finding.label,
                detail=_describe(finding, request, status),
                **common,
            )
        if status < 400:
            return
        user_agent = request.META.get("HTTP_USER_AGENT", "")[:200]
        security_event_record(
            kind=Kind.HTTP_ERROR,
            severity=Severity.MEDIUM if status >= 500 else Severity.LOW,
            pattern=str(status),
            detail=ERROR.format(method=request.method, status=status, user_agent=user_agent),
            **common,
        )
        if status in DENIALS and common["ip"]:
            self._count_denial(status, common)

    def _count_denial(self, status: int, common: dict) -> None:
        threshold = settings.RESYNC_SECURITY_EVENTS_BURST
        count = self.denials.add(common["ip"])
        if count < threshold:
            return
        security_event_record(
            kind=Kind.ERROR_BURST,
            severity=SEVERITY[Kind.ERROR_BURST],
            pattern=str(status),
            detail=BURST.format(count=count, threshold=threshold),
            count=threshold if count == threshold else 1,  # the burst's answers so far
            **common,
        )


def request_findings(request: HttpRequest) -> list[Finding]:
    """The first finding of each kind in the request's path, query, body and user agent."""
    found: dict[str, Finding] = {}
    parts = [scan(request.path, "path")]
    query = request.META.get("QUERY_STRING", "")
    if query:
        parts.append(scan(unquote_plus(query[:SCAN_CHARS]), "query"))
    body = _body_text(request)
    if body:
        parts.append(scan(body, "body", excerpt=False))
    agent = scan_user_agent(request.META.get("HTTP_USER_AGENT", ""))
    if agent is not None:
        parts.append([agent])
    for finding in (finding for part in parts for finding in part):
        found.setdefault(finding.kind, finding)
    return list(found.values())


def _body_text(request: HttpRequest) -> str:
    """The start of a JSON or form body as text, or "" (other types, no body, too large)."""
    if request.method not in _BODY_METHODS or request.content_type not in (_JSON, _FORM):
        return ""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    # A body over the limit, or an unreadable length, is apps.core.api.limits' to refuse.
    if not declared.isascii() or not declared.isdigit() or not 0 < int(declared) <= limit:
        return ""
    try:
        # The view reads the same bytes again from Django's copy (request.body).
        raw = request.body[:SCAN_CHARS]
    except Exception:  # a client that went away: the view will find out
        return ""
    text = raw.decode("utf-8", "replace")
    if request.content_type == _FORM:
        return unquote_plus(text)
    return text.replace('\\"', '"').replace("\\/", "/")  # JSON's escapes of " and /


def _authenticated_user(request: HttpRequest):
    """The user authentication already found, without reading one (no query here)."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        wrapped = user.__dict__.get("_wrapped", empty)
        user = None if wrapped is empty else wrapped
    return user if user is not None and user.is_authenticated else None


def _describe(finding: Finding, request: HttpRequest, status: int) -> str:
    if finding.where == "body":
        return FOUND_IN_BODY.format(content_type=request.content_type, status=status)
    return FOUND.format(where=finding.where, excerpt=finding.excerpt, status=status)


class DenialCounter:
    """401/403/404 answers per client IP in the current minute, for this process.

    Bounded: at most `max_addresses` addresses a minute are counted (further ones are not:
    the recorder's own address budget has folded them together by then anyway).
    """

    def __init__(self, max_addresses: int = 10_000) -> None:
        self.max_addresses = max_addresses
        self._lock = threading.Lock()
        self._minute: datetime | None = None
        self._counts: dict[str, int] = {}

    def add(self, ip: str) -> int:
        """Count one denial for `ip`; returns its count this minute (0 if not counted)."""
        minute = recording.minute_of(recording.clock())
        with self._lock:
            if minute != self._minute:
                self._minute = minute
                self._counts.clear()
            count = self._counts.get(ip)
            if count is None and len(self._counts) >= self.max_addresses:
                return 0
            count = (count or 0) + 1
            self._counts[ip] = count
            return count
