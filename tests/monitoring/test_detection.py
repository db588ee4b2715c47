"""Suspicious-pattern detection: probes are found, ordinary names never are, and it is bounded."""

from __future__ import annotations

import time

import pytest

from apps.monitoring.detection import (
    NULL_BYTE,
    PATH_TRAVERSAL,
    SCAN_CHARS,
    SCANNER,
    SQL_INJECTION,
    XSS,
    printable,
    scan,
    scan_user_agent,
)

# Names and texts people really give jobs, streams, keys and searches: none is suspicious.
VALID = [
    "O'Brien",
    "d'Artagnan",
    "Rock 'n' Roll",
    "l'été 'brouillon'",
    '"Nightly" #2',
    "JOB_#1",
    "ACME#PAYROLL_Ü",
    "Café Crème",
    "Müller & Söhne",
    "Ørsted; Ærø",
    "50% done",
    "100%",
    "v1..v2",
    "wait...",
    "a/b/c",
    "C:\\Temp\\job",
    "it's -- fine",
    "Tom's or Jerry's = fun",
    "O'Neil or O'Hara",
    "x < y and y > z",
    "a+b=c",
    "or 1=2",
    "1=1",
    "SELECT_JOBS",
    "union_select_stream",
    "onload_job",
    "script_runner",
    "<b>bold</b>",
    "medieval(1200)",
    "the data: text/html",
    "javascript: the good parts",
    "email@example.com",
    "/api/v1/jobs/status/",
    "ordering=-start&page_size=20&status=Error",
    "SLEEPY(5)",
    "İstanbul",
]

HOSTILE = [
    ("' OR 1=1--", SQL_INJECTION, "tautology"),
    ("' or 'a'='a", SQL_INJECTION, "tautology"),
    ('") or ("1"="1', SQL_INJECTION, "tautology"),
    ("1 OR 1=1", SQL_INJECTION, "numeric-tautology"),
    ("admin'--", SQL_INJECTION, "quote-comment"),
    ("1'/*", SQL_INJECTION, "quote-comment"),
    ("1; DROP TABLE core_job", SQL_INJECTION, "stacked-query"),
    ("x'; exec xp_cmdshell 'dir'", SQL_INJECTION, "stacked-query"),
    ("1 UNION SELECT username, password FROM auth_user", SQL_INJECTION, "union-select"),
    ("1/**/UNION/**/ALL/**/SELECT/**/1", SQL_INJECTION, "union-select"),
    ("1 AND SLEEP(5)", SQL_INJECTION, "time-delay"),
    ("1;select pg_sleep(10)", SQL_INJECTION, "time-delay"),
    ("'; WAITFOR DELAY '0:0:5'", SQL_INJECTION, "time-delay"),
    ("select * from information_schema.tables", SQL_INJECTION, "system-catalog"),
    ("<script>alert(1)</script>", XSS, "script-tag"),
    ("<ScRiPt src=//evil.example>", XSS, "script-tag"),
    ("<img src=x onerror=alert(1)>", XSS, "event-handler"),
    ('<a href="#" onmouseover = "x()">', XSS, "event-handler"),
    ("javascript:alert(document.domain)", XSS, "script-uri"),
    ("<svg/onload=alert(1)>", XSS, "event-handler"),
    ("<iframe src=//evil.example>", XSS, "active-tag"),
    ("data:text/html;base64,PHNjcmlwdD4=", XSS, "html-data-uri"),
    ("document.cookie", XSS, "dom-sink"),
    ("../../etc/passwd", PATH_TRAVERSAL, "dot-dot"),
    ("..\\..\\windows\\win.ini", PATH_TRAVERSAL, "dot-dot"),
    ("%2e%2e%2f%2e%2e%2f", PATH_TRAVERSAL, "dot-dot"),
    ("/static/..", PATH_TRAVERSAL, "dot-dot"),
    ("/proc/self/environ", PATH_TRAVERSAL, "system-file"),
    ("file=C:/Windows/system.ini", PATH_TRAVERSAL, "system-file"),
    ("name\x00.txt", NULL_BYTE, "nul"),
    ("name%00.txt", NULL_BYTE, "nul"),
]


@pytest.mark.parametrize("text", VALID)
def test_ordinary_text_is_not_suspicious(text):
    assert scan(text, "query") == []


@pytest.mark.parametrize(("text", "kind", "label"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_probes_are_found_with_their_kind_and_pattern(text, kind, label):
    findings = {finding.kind: finding for finding in scan(text, "query")}

    assert kind in findings
    assert findings[kind].label == label
    assert findings[kind].where == "query"


def test_each_kind_is_reported_once_with_an_excerpt_of_the_match():
    text = "q=" + "a" * 100 + "<script>alert(1)</script>' OR 1=1-- <iframe>"

    findings = scan(text, "query")

    assert sorted(f.kind for f in findings) == [SQL_INJECTION, XSS]
    xss = next(f for f in findings if f.kind == XSS)
    assert xss.label == "script-tag"
    assert xss.excerpt.startswith("…aaaa")
    assert "<script>" in xss.excerpt
    assert len(xss.excerpt) < 120


def test_private_text_is_scanned_without_an_excerpt():
    (finding,) = scan('{"password": "<script>"}', "body", excerpt=False)

    assert finding.kind == XSS
    assert finding.excerpt == ""


def test_only_the_first_scan_chars_are_looked_at():
    assert scan("x" * SCAN_CHARS + "<script>", "body") == []
    assert scan("x" * (SCAN_CHARS - 8) + "<script>", "body") != []


# Inputs built to make a careless pattern backtrack: nested or unbounded repetitions would
# take minutes or hours on them. The bound is very generous (a loaded 2-core machine scans
# each in a few milliseconds): it fails only if a pattern goes quadratic or worse, never
# because the machine is busy.
PATHOLOGICAL = [
    "<a " * 100_000,
    "'" + " " * 100_000,
    "<a" + "b" * 100_000,
    "' or " * 20_000,
    "union " * 20_000,
    ".." * 50_000,
    "a" * 1_000_000,
    "'" + "a" * 30 + "=" * 100_000,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=lambda t: f"{t[:6]!r}x{len(t)}")
def test_pathological_input_is_scanned_in_bounded_time(text):
    started = time.perf_counter()
    scan(text, "body")
    assert time.perf_counter() - started < 5.0


@pytest.mark.parametrize(
    "agent",
    [
        "sqlmap/1.7.2#stable (https://sqlmap.org)",
        "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)",
        "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
        "Fuzz Faster U Fool v2.1.0 ffuf",
        "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
    ],
)
def test_scanners_are_named_by_their_user_agent(agent):
    finding = scan_user_agent(agent)

    assert finding is not None
    assert finding.kind == SCANNER
    assert finding.excerpt == agent


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "python-httpx/0.28.1",
        "Wget/1.21.3",
        "Hydrangea-Monitor/1.0",
        "",
    ],
)
def test_ordinary_clients_are_not_scanners(agent):
    assert scan_user_agent(agent) is None


def test_control_characters_are_shown_escaped():
    assert printable("a\x00b\nc\x7f") == "a\\x00b\\x0ac\\x7f"
    assert printable("Café 'x' #1") == "Café 'x' #1"
