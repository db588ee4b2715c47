"""Hostile input: every endpoint answers a problem body with a 4xx, never a 500.

One table, one line per case: (method, URL with its query, body, expected status, the
`errors` key that must name the culprit or None). A new endpoint adds its lines here;
test_every_api_route_has_a_row fails until it has at least a junk-parameter row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLResolver, get_resolver, resolve
from rest_framework_simplejwt.tokens import RefreshToken

from apps.core.api.problems import PROBLEM_CONTENT_TYPE, TITLES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
CSP = "application/csp-report"
REPORTS = "application/reports+json"
MB = 1024 * 1024


@dataclass(frozen=True)
class Body:
    """A request body exactly as sent (text, so malformed JSON stays malformed)."""

    label: str
    text: str | Callable[[], str] = ""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)

    def render(self) -> str:
        return self.text() if callable(self.text) else self.text


def _deleted_users_refresh_token() -> str:
    user = UserFactory(username="gone")
    token = str(RefreshToken.for_user(user))
    get_user_model().objects.filter(pk=user.pk).delete()
    return f'{{"refresh": "{token}"}}'


NONE = Body("no body")
NESTED = Body("[ x 100,000", "[" * 100_000)
HUGE = Body("3 MB JSON", '{"a": "' + "x" * (3 * MB) + '"}')
HUGE_FORM = Body("3 MB form", "a=" + "x" * (3 * MB), FORM)
MANY_FIELDS = Body("1,001 form fields", "&".join(f"f{i}=1" for i in range(1001)), FORM)
LIES_ABOUT_SIZE = Body("Content-Length 10 GB", "{}", headers={"CONTENT_LENGTH": str(10**10)})
BAD_LENGTH = Body("Content-Length abc", "{}", headers={"CONTENT_LENGTH": "abc"})
NOT_JSON = Body("not JSON", "{'single': 'quotes'}")
ARRAY = Body("array", "[1, 2, 3]")
STRING = Body("string", '"x"')
NULL = Body("null", "null")
EMPTY_OBJECT = Body("{}", "{}")
GARBAGE_TOKEN = Body("garbage token", '{"refresh": "not.a.token"}')
DELETED_USER = Body("deleted user's refresh token", _deleted_users_refresh_token)


JOBS = "/api/v1/jobs/"
JOB = "/api/v1/jobs/{job}/"
STATUS = "/api/v1/jobs/status/"
EXPORT = "/api/v1/jobs/export/"
ACTION = "/api/v1/jobs/{job}/actions/{action}/"
WORKSTATIONS = "/api/v1/workstations/"
WORKSTATION = "/api/v1/workstations/{workstation}/"
STREAMS = "/api/v1/jobstreams/"
STREAM = "/api/v1/jobstreams/{stream}/"
HEALTH = "/api/v1/health/"
HEALTH_LIVE = "/api/v1/health/live/"
HEALTH_READY = "/api/v1/health/ready/"
METRICS = "/metrics"
ALERTS = "/api/v1/alerts/"
POOLS = "/api/v1/config/pools/"
POOL = "/api/v1/config/pools/database/"
POOL_STATS = "/api/v1/pools/stats/"
CACHE = "/api/v1/config/cache/"
CACHE_STATS = "/api/v1/cache/stats/"
AUDIT = "/api/v1/audit/"
CACHE_CLEAR = "/api/v1/cache/clear/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
VERIFY = "/api/v1/auth/token/verify/"
LOGOUT = "/api/v1/auth/logout/"
API_KEYS = "/api/v1/api-keys/"
API_KEY = "/api/v1/api-keys/{key}/"
BAD_SCOPE = Body("unknown scope", '{"name": "x", "owner": "root", "scopes": ["plan:write"]}')
CORS = "/api/v1/config/cors-origins/"
CORS_ORIGIN = "/api/v1/config/cors-origins/{cors}/"
# Not origins (scheme://host[:port]); the row "https://objects.example" exists (api_objects).
BAD_ORIGINS = [
    ("wildcard", "https://*.example.com"),
    ("null origin", "null"),
    ("path", "https://a.example/app"),
    ("trailing slash", "https://a.example/"),
    ("query", "https://a.example?x=1"),
    ("user info", "https://u:p@a.example"),
    ("javascript scheme", "javascript://a.example"),
    ("no scheme", "a.example"),
    ("port 99999", "https://a.example:99999"),
    ("space", "https://a .example"),
    ("newline", "https://a.exa\nmple"),
    ("unicode host", "https://b\u00fccher.example"),
    ("bad IPv6", "http://[::zz]:8080"),
    ("10,000 characters", "https://" + "a" * 10_000 + ".example"),
    ("a number", 5),
    ("a list", ["https://a.example"]),
    ("same origin, other spelling", "HTTPS://Objects.Example:443"),
]


def origin_body(label: str, origin: object, **fields: object) -> Body:
    return Body(label, json.dumps({"origin": origin, **fields}))


SECURITY_EVENTS = "/api/v1/security-events/"
CSP_REPORT = "/api/v1/security/csp-report/"
CSP_OK = Body(
    "report-uri report",
    '{"csp-report": {"violated-directive": "script-src", "blocked-uri": "inline"}}',
    CSP,
)
REPORTS_OK = Body(
    "Reporting API batch",
    '[{"type": "csp-violation", "body": {"effectiveDirective": "img-src"}},'
    ' {"type": "deprecation", "body": {}}]',
    REPORTS,
)
ASSISTANT_ASK = "/api/v1/assistant/ask/"
ASSISTANT_CONFIRM = "/api/v1/assistant/confirm/"
CONVERSATIONS = "/api/v1/assistant/conversations/"
CONVERSATION = "/api/v1/assistant/conversations/{conversation}/"


def prompt_body(label: str, prompt: object, **fields: object) -> Body:
    return Body(label, json.dumps({"prompt": prompt, **fields}))


SCHEMA = "/api/schema/"
DOCS = "/api/docs/"
PLUS16 = "2024-06-01T00:00:00%2B16:00"  # valid ISO 8601; PostgreSQL refuses the offset


def row(method: str, url: str, body: Body, status: int, field: str | None, *, marks=()):
    """One case: the `errors` key `field` must name the culprit (None: no key to check)."""
    return pytest.param(
        method, url, body, status, field, marks=marks, id=f"{method} {url[:70]} [{body.label}]"
    )


# method, URL (with query), body, status, errors key (or None): one line per case.
# fmt: off
CASES = [
    # Unknown query parameters: a 400 naming them, on every endpoint.
    row("GET", JOBS + "?junk=1", NONE, 400, "junk"),
    row("GET", JOBS + "?stauts=Error", NONE, 400, "stauts"),
    row("GET", JOB + "?junk=1", NONE, 400, "junk"),
    row("GET", STATUS + "?junk=1", NONE, 400, "junk"),
    row("GET", EXPORT + "?junk=1", NONE, 400, "junk"),
    row("POST", ACTION.replace("{action}", "rerun") + "?junk=1", NONE, 400, "junk"),
    row("GET", WORKSTATIONS + "?junk=1", NONE, 400, "junk"),
    row("GET", WORKSTATION + "?junk=1", NONE, 400, "junk"),
    row("GET", STREAMS + "?junk=1", NONE, 400, "junk"),
    row("GET", STREAM + "?junk=1", NONE, 400, "junk"),
    row("GET", HEALTH + "?junk=1", NONE, 400, "junk"),
    row("GET", HEALTH_LIVE + "?junk=1", NONE, 400, "junk"),
    row("GET", HEALTH_READY + "?junk=1", NONE, 400, "junk"),
    row("GET", METRICS + "?junk=1", NONE, 400, "junk"),
    row("GET", METRICS + "?name[]=resync_jobs", NONE, 400, "name[]"),
    row("POST", METRICS, EMPTY_OBJECT, 405, None),
    row("POST", HEALTH_LIVE, EMPTY_OBJECT, 405, None),
    row("GET", ALERTS + "?junk=1", NONE, 400, "junk"),
    row("POST", ALERTS, EMPTY_OBJECT, 405, None),
    row("GET", POOLS + "?junk=1", NONE, 400, "junk"),
    row("PATCH", POOL + "?junk=1", EMPTY_OBJECT, 400, "junk"),
    row("GET", POOL_STATS + "?junk=1", NONE, 400, "junk"),
    row("GET", CACHE + "?junk=1", NONE, 400, "junk"),
    row("GET", CACHE_STATS + "?junk=1", NONE, 400, "junk"),
    # The seed's unversioned aliases (resync_site/seed_aliases.py) are the same views.
    row("GET", "/api/health?junk=1", NONE, 400, "junk"),
    row("GET", "/api/cache/stats?junk=1", NONE, 400, "junk"),
    row("GET", "/api/jobs/status?junk=1", NONE, 400, "junk"),
    row("POST", CACHE_CLEAR + "?junk=1", NONE, 400, "junk"),
    row("POST", TOKEN + "?junk=1", EMPTY_OBJECT, 400, "junk"),
    row("POST", REFRESH + "?junk=1", EMPTY_OBJECT, 400, "junk"),
    row("POST", VERIFY + "?junk=1", EMPTY_OBJECT, 400, "junk"),
    row("POST", LOGOUT + "?junk=1", EMPTY_OBJECT, 400, "junk"),
    row("GET", API_KEYS + "?junk=1", NONE, 400, "junk"),
    row("GET", API_KEY + "?junk=1", NONE, 400, "junk"),
    row("POST", API_KEY + "rotate/?junk=1", EMPTY_OBJECT, 400, "junk"),
    row("POST", API_KEY + "revoke/?junk=1", NONE, 400, "junk"),
    row("GET", CORS + "?junk=1", NONE, 400, "junk"),
    row("GET", CORS_ORIGIN + "?junk=1", NONE, 400, "junk"),
    row("GET", SECURITY_EVENTS + "?junk=1", NONE, 400, "junk"),
    row("POST", CSP_REPORT + "?junk=1", CSP_OK, 400, "junk"),
    row("GET", SCHEMA + "?junk=1", NONE, 400, "junk"),
    row("GET", DOCS + "?junk=1", NONE, 400, "junk"),
    row("GET", AUDIT + "?junk=1", NONE, 400, "junk"),
    row("POST", ASSISTANT_ASK + "?junk=1", prompt_body("ok", "hi"), 400, "junk"),
    row("POST", ASSISTANT_CONFIRM + "?junk=1", Body("token", '{"token": "x"}'), 400, "junk"),
    row("GET", CONVERSATIONS + "?junk=1", NONE, 400, "junk"),
    row("GET", CONVERSATION + "?junk=1", NONE, 400, "junk"),
    # A list-only parameter on a detail; a single-valued parameter given twice.
    row("GET", JOB + "?page_size=10", NONE, 400, "page_size"),
    row("GET", JOBS + "?page_size=10&page_size=20", NONE, 400, "page_size"),
    row("GET", JOBS + "?ordering=name&ordering=-name", NONE, 400, "ordering"),
    row("GET", JOBS + "?status=Error&status=Held", NONE, 200, None),
    # Choices: unknown values are a 400; known ones match in any case.
    row("GET", JOBS + "?status=Bogus", NONE, 400, "status"),
    # The export's `format` is its file format, not DRF's renderer: a bad one names it.
    row("GET", EXPORT + "?format=xlsx", NONE, 400, "format"),
    row("GET", EXPORT + "?format=", NONE, 400, "format"),
    row("GET", EXPORT + "?format=csv&format=ndjson", NONE, 400, "format"),
    row("GET", EXPORT + "?format=csv&status=Bogus", NONE, 400, "status"),
    row("GET", EXPORT + "?format=ndjson&page=2", NONE, 400, "page"),
    row("GET", EXPORT + "?q=" + "x" * 65, NONE, 400, "q"),
    row("GET", EXPORT + "?start_after=" + PLUS16, NONE, 400, "start_after"),
    row("POST", EXPORT, EMPTY_OBJECT, 405, None),
    row("GET", STREAMS + "?state=Bogus", NONE, 400, "state"),
    row("GET", JOBS + "?status=error", NONE, 200, None),
    row("GET", JOBS + "?internal_state=abend", NONE, 200, None),
    row("GET", STREAMS + "?state=exec", NONE, 200, None),
    row("GET", ALERTS + "?severity=bogus", NONE, 400, "severity"),
    row("GET", ALERTS + "?state=closed", NONE, 400, "state"),
    row("GET", ALERTS + "?state=OPEN&severity=Critical", NONE, 200, None),
    row("GET", ALERTS + "?ordering=summary", NONE, 400, "ordering"),
    # Date filters: offsets PostgreSQL refuses and dates that overflow in UTC.
    row("GET", JOBS + "?start_after=" + PLUS16, NONE, 400, "start_after"),
    row("GET", JOBS + "?start_before=" + PLUS16, NONE, 400, "start_before"),
    row("GET", JOBS + "?end_after=" + PLUS16, NONE, 400, "end_after"),
    row("GET", JOBS + "?end_before=" + PLUS16, NONE, 400, "end_before"),
    row("GET", STREAMS + "?scheduled_after=" + PLUS16, NONE, 400, "scheduled_after"),
    row("GET", STREAMS + "?scheduled_before=" + PLUS16, NONE, 400, "scheduled_before"),
    row("GET", AUDIT + "?since=" + PLUS16, NONE, 400, "since"),
    row("GET", AUDIT + "?until=9999-12-31T23:59:59-01:00", NONE, 400, "until"),
    row("GET", AUDIT + "?source=Bogus", NONE, 400, "source"),
    row("GET", AUDIT + "?request_id=" + "x" * 65, NONE, 400, "request_id"),
    row("GET", AUDIT + "?ordering=hash", NONE, 400, "ordering"),
    row("GET", AUDIT + "?source=API&source=admin", NONE, 200, None),
    row("GET", ALERTS + "?since=" + PLUS16, NONE, 400, "since"),
    row("GET", ALERTS + "?since=yesterday", NONE, 400, "since"),
    row("GET", JOBS + "?start_after=2024-06-01T00:00:00-12:30", NONE, 400, "start_after"),
    row("GET", JOBS + "?start_after=0001-01-01T00:00:00%2B01:00", NONE, 400, "start_after"),
    row("GET", JOBS + "?end_before=9999-12-31T23:59:59-01:00", NONE, 400, "end_before"),
    row("GET", JOBS + "?start_after=2024-06-01T00:00:00%2B24:00", NONE, 400, "start_after"),
    row("GET", JOBS + "?start_after=2024-06-01T00:00:00%2B14:00", NONE, 200, None),
    # Other query values.
    row("GET", JOBS + "?page=0", NONE, 400, "page"),
    row("GET", JOBS + "?page_size=" + "9" * 5000, NONE, 400, "page_size"),
    row("GET", JOBS + "?q=" + "x" * 65, NONE, 400, "q"),
    row("GET", JOBS + "?ordering=password", NONE, 400, "ordering"),
    row("GET", JOBS + "?" + "&".join(f"f{i}=1" for i in range(1001)), NONE, 400, None),
    row("GET", "/api/v1/jobs/99999999/", NONE, 404, None),
    row("GET", "/api/v1/jobs/abc/", NONE, 404, None),
    row("GET", "/api/v1/no-such-endpoint/", NONE, 404, None),
    row("POST", ACTION.replace("{action}", "explode"), NONE, 404, None),
    row("DELETE", JOBS, NONE, 405, None),
    # Bodies nested past the recursion limit: a 400 on every JSON endpoint.
    row("POST", TOKEN, NESTED, 400, None),
    row("POST", REFRESH, NESTED, 400, None),
    row("POST", VERIFY, NESTED, 400, None),
    row("POST", LOGOUT, NESTED, 400, None),
    row("POST", LOGOUT, GARBAGE_TOKEN, 401, None),
    row("POST", API_KEYS, NESTED, 400, None),
    row("POST", API_KEYS, ARRAY, 400, None),
    row("POST", API_KEYS, BAD_SCOPE, 400, "scopes"),
    row("POST", API_KEY + "rotate/", ARRAY, 400, None),
    row("GET", API_KEYS + "?ordering=secret", NONE, 400, "ordering"),
    row("PUT", POOL, NESTED, 400, None),
    row("PATCH", POOL, NESTED, 400, None),
    row("PUT", CACHE, NESTED, 400, None),
    row("PATCH", CACHE, NESTED, 400, None),
    row("PATCH", CACHE, NOT_JSON, 400, None),
    # Bodies over the limit (or claiming to be): a 413, on API and non-API paths.
    row("POST", TOKEN, HUGE, 413, None),
    row("POST", TOKEN, HUGE_FORM, 413, None),
    row("PUT", POOL, HUGE, 413, None),
    row("PATCH", CACHE, HUGE, 413, None),
    row("POST", ACTION.replace("{action}", "rerun"), HUGE, 413, None),
    row("POST", "/admin/login/", HUGE_FORM, 413, None),
    row("POST", TOKEN, LIES_ABOUT_SIZE, 413, None),
    row("POST", TOKEN, BAD_LENGTH, 400, None),
    row("POST", "/admin/login/", BAD_LENGTH, 400, None),
    row("POST", TOKEN, MANY_FIELDS, 400, None),
    # Config bodies: objects only, known fields only, ASCII whole numbers.
    row("PATCH", POOL, ARRAY, 400, "non_field_errors"),
    row("PATCH", POOL, STRING, 400, "non_field_errors"),
    row("PATCH", POOL, NULL, 400, "non_field_errors"),
    row("PATCH", CACHE, ARRAY, 400, "non_field_errors"),
    row("PATCH", CACHE, STRING, 400, "non_field_errors"),
    row("PATCH", CACHE, NULL, 400, "non_field_errors"),
    row("PATCH", POOL, Body("unknown field", '{"max_sise": 3}'), 400, "max_sise"),
    row("PATCH", CACHE, Body("unknown field", '{"ttl": 5}'), 400, "ttl"),
    row("PATCH", POOL, Body("Arabic 3", '{"max_size": "\\u0663"}'), 400, "max_size"),
    row("PATCH", POOL, Body("underscore digits", '{"max_size": "1_000"}'), 400, "max_size"),
    row("PATCH", POOL, Body("float", '{"max_size": 3.5}'), 400, "max_size"),
    row("PATCH", POOL, Body("bool", '{"max_size": true}'), 400, "max_size"),
    row("PATCH", POOL, Body("10^30", '{"max_waiting": 1%s}' % ("0" * 30)), 400, "max_waiting"),
    row("PATCH", CACHE, Body("Arabic 3", '{"ttl_seconds": "\\u0663"}'), 400, "ttl_seconds"),
    row("PATCH", CACHE, Body("underscore digits", '{"ttl_seconds": "1_000"}'), 400, "ttl_seconds"),
    row("PATCH", CACHE, Body("10^30", '{"max_entries": 1%s}' % ("0" * 30)), 400, "max_entries"),
    row("PATCH", CACHE, Body("spaces", '{"ttl_seconds": " 5"}'), 400, "ttl_seconds"),
    row("PATCH", POOL, Body("digits as text", '{"max_size": "25"}'), 200, None),
    row("PATCH", "/api/v1/config/pools/mongo/", EMPTY_OBJECT, 404, None),
    # CORS origins: exactly scheme://host[:port]; anything else is a 400 naming `origin`.
    row("POST", CORS, NESTED, 400, None),
    row("POST", CORS, ARRAY, 400, "non_field_errors"),
    row("POST", CORS, NULL, 400, "non_field_errors"),
    row("POST", CORS, EMPTY_OBJECT, 400, "origin"),
    row("POST", CORS, HUGE, 413, None),
    row("POST", CORS, origin_body("unknown field", "https://a.example", origins=1), 400, "origins"),
    *[row("POST", CORS, origin_body(label, value), 400, "origin") for label, value in BAD_ORIGINS],
    row("POST", CORS, origin_body("enabled: x", "https://b.example", enabled="x"), 400, "enabled"),
    row("POST", CORS, origin_body("long note", "https://b.example", note="n" * 201), 400, "note"),
    row("POST", CORS, origin_body("punycode, port", "https://xn--bcher-kva.example:84"), 201, None),
    row("PATCH", CORS_ORIGIN, NESTED, 400, None),
    row("PATCH", CORS_ORIGIN, ARRAY, 400, "non_field_errors"),
    row("PATCH", CORS_ORIGIN, Body("wildcard", '{"origin": "*"}'), 400, "origin"),
    row("PATCH", CORS_ORIGIN, Body("read-only id", '{"id": 12345}'), 200, None),
    row("PATCH", CORS + "99999999/", EMPTY_OBJECT, 404, None),
    row("GET", CORS + "abc/", NONE, 404, None),
    row("DELETE", CORS + "99999999/", NONE, 404, None),
    row("PUT", CORS_ORIGIN, EMPTY_OBJECT, 405, None),
    # Security events: filters are checked; CSP reports are the two report formats only.
    row("GET", SECURITY_EVENTS + "?kind=bogus", NONE, 400, "kind"),
    row("GET", SECURITY_EVENTS + "?severity=extreme", NONE, 400, "severity"),
    row("GET", SECURITY_EVENTS + "?ip=999.1.1.1", NONE, 400, "ip"),
    row("GET", SECURITY_EVENTS + "?since=" + PLUS16, NONE, 400, "since"),
    row("GET", SECURITY_EVENTS + "?ordering=detail", NONE, 400, "ordering"),
    row("GET", SECURITY_EVENTS + "?kind=XSS&severity=HIGH&severity=low&ip=::ffff:10.0.0.1",
        NONE, 200, None),
    row("POST", CSP_REPORT, CSP_OK, 204, None),
    row("POST", CSP_REPORT, REPORTS_OK, 204, None),
    row("POST", CSP_REPORT, EMPTY_OBJECT, 415, None),
    row("POST", CSP_REPORT, Body("no body", "", CSP), 400, None),
    row("POST", CSP_REPORT, Body("not JSON", "{'csp-report'}", CSP), 400, None),
    row("POST", CSP_REPORT, Body("[ x 60,000", "[" * 60_000, CSP), 400, None),
    row("POST", CSP_REPORT, Body("array", "[1]", CSP), 400, None),
    row("POST", CSP_REPORT, Body("string report", '{"csp-report": "x"}', CSP), 400, None),
    row("POST", CSP_REPORT, Body("object", "{}", REPORTS), 400, None),
    row("POST", CSP_REPORT, Body("no body", '[{"type": "csp-violation"}]', REPORTS), 400, None),
    row("POST", CSP_REPORT, Body("100 KB", '{"csp-report": {"x": "' + "x" * 100_000 + '"}}', CSP),
        413, None),
    row("POST", CSP_REPORT, Body("3 MB", "[" + "{}," * MB + "{}]", REPORTS), 413, None),
    row("GET", CSP_REPORT, NONE, 405, None),
    # The assistant: the seed's rules on every field, refused before any model call.
    row("POST", ASSISTANT_ASK, NESTED, 400, None),
    row("POST", ASSISTANT_ASK, ARRAY, 400, "non_field_errors"),
    row("POST", ASSISTANT_ASK, NULL, 400, "non_field_errors"),
    row("POST", ASSISTANT_ASK, EMPTY_OBJECT, 400, "prompt"),
    row("POST", ASSISTANT_ASK, HUGE, 413, None),
    row("POST", ASSISTANT_ASK, prompt_body("empty prompt", ""), 400, "prompt"),
    row("POST", ASSISTANT_ASK, prompt_body("10,001 characters", "x" * 10_001), 400, "prompt"),
    row("POST", ASSISTANT_ASK, prompt_body("a number", 5), 400, "prompt"),
    row("POST", ASSISTANT_ASK, prompt_body("a list", ["hi"]), 400, "prompt"),
    row("POST", ASSISTANT_ASK, prompt_body("DROP TABLE", "'; DROP TABLE users; --"), 400, "prompt"),
    row("POST", ASSISTANT_ASK, prompt_body("UNION", "1 UNION SELECT password FROM users --"),
        400, "prompt"),
    row("POST", ASSISTANT_ASK, prompt_body("comment", "admin' --"), 400, "prompt"),
    row("POST", ASSISTANT_ASK, prompt_body("hex dump", "deadbeef" * 40), 400, "prompt"),
    row("POST", ASSISTANT_ASK, prompt_body("NUL", "hi\u0000"), 400, "prompt"),
    row("POST", ASSISTANT_ASK, prompt_body("bad model", "hi", model="a b"), 400, "model"),
    row("POST", ASSISTANT_ASK, prompt_body("long model", "hi", model="m" * 101), 400, "model"),
    row("POST", ASSISTANT_ASK, prompt_body("bad request_id", "hi", request_id="1"), 400,
        "request_id"),
    row("POST", ASSISTANT_ASK, prompt_body("bad client_ip", "hi", client_ip="1.2.3"), 400,
        "client_ip"),
    row("POST", ASSISTANT_ASK, prompt_body("unknown field", "hi", temperature=9), 400,
        "temperature"),
    row("POST", ASSISTANT_ASK, prompt_body("conversation 0", "hi", conversation=0), 400,
        "conversation"),
    row("POST", ASSISTANT_ASK, prompt_body("stream: x", "hi", stream="x"), 400, "stream"),
    row("POST", ASSISTANT_ASK, prompt_body("no such conversation", "hi", conversation=99999999),
        404, None),
    row("GET", ASSISTANT_ASK, NONE, 405, None),
    row("POST", ASSISTANT_CONFIRM, NESTED, 400, None),
    row("POST", ASSISTANT_CONFIRM, EMPTY_OBJECT, 400, "token"),
    row("POST", ASSISTANT_CONFIRM, Body("forged token", '{"token": "a:b:c"}'), 400, None),
    row("POST", ASSISTANT_CONFIRM, Body("long token", '{"token": "' + "x" * 501 + '"}'), 400,
        "token"),
    row("GET", CONVERSATIONS + "?page=0", NONE, 400, "page"),
    row("GET", CONVERSATIONS + "abc/", NONE, 404, None),
    row("GET", CONVERSATIONS + "99999999/", NONE, 404, None),
    row("DELETE", CONVERSATIONS + "99999999/", NONE, 404, None),
    row("PUT", CONVERSATION, EMPTY_OBJECT, 405, None),
    # Tokens.
    row("POST", TOKEN, ARRAY, 400, "non_field_errors"),
    row("POST", REFRESH, GARBAGE_TOKEN, 401, None),
    row("POST", REFRESH, DELETED_USER, 401, None),
]
# fmt: on


@pytest.fixture
def ids(api_objects) -> dict[str, int | str]:
    """The objects the URLs of the table name, by the placeholders they use."""
    return {
        "job": api_objects["jobs"],
        "workstation": api_objects["workstations"],
        "stream": api_objects["jobstreams"],
        "key": api_objects["api-keys"],
        "cors": api_objects["cors-origins"],
        "conversation": api_objects["conversations"],
    }


@pytest.mark.parametrize(("method", "url", "body", "status", "field"), CASES)
def test_hostile_input_is_a_4xx_problem(admin_client_api, ids, method, url, body, status, field):
    extra = dict(body.headers)
    response = admin_client_api.generic(
        method, url.format(**ids), body.render(), content_type=body.content_type, **extra
    )
    assert response.status_code == status, response.content[:500]
    if status < 400:
        return
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    problem = response.json()
    assert problem["status"] == status
    assert problem["title"] == TITLES[status]
    assert problem["request_id"] == response["X-Request-ID"]
    if field is not None:
        assert field in problem["errors"], problem


def _api_route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith("api/"):
                names.add(pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


def test_every_api_route_has_a_row():
    ids = {"job": 1, "workstation": 1, "stream": 1, "key": "abc", "cors": 1, "conversation": 1}
    junk_rows = {
        resolve(urlsplit(case.values[1].format(**ids)).path).url_name
        for case in CASES
        if case.values[4] == "junk"
    }
    assert _api_route_names() - junk_rows == set()
