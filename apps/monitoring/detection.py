"""Suspicious-pattern detection for security events: it reports, it never blocks or rewrites.

Parameterised ORM queries protect against SQL injection and escaping templates and JSON
against XSS; these patterns only tell auditors someone is trying (the middleware in
apps/monitoring/security_events.py). So they aim at the probes scanners and people actually
send, not at every text that could be part of an attack, and never at ordinary names: `#`,
`_`, quotes, accents and apostrophes (O'Brien, "Nightly #2") match nothing.

Bounded by construction: every pattern is precompiled, every repetition has an upper bound
and none is nested (no catastrophic backtracking), and at most SCAN_CHARS characters of
any one text are looked at.

Fast by construction: the text is lower-cased once and the patterns compiled without
IGNORECASE, each starting with a literal character (a word boundary is checked just after
the word's first letter, see `_word`). Python's regex engine then jumps from one possible
first character to the next instead of trying the pattern at every position: a scan of
4 KB is several times cheaper than with IGNORECASE and a leading `\\b`. One alternation of
all the patterns would be slower than the patterns one by one: almost every character
could start one of its branches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SQL_INJECTION = "sql_injection"
XSS = "xss"
PATH_TRAVERSAL = "path_traversal"
NULL_BYTE = "null_byte"
SCANNER = "scanner"

# The most of one text (path, query, body, user agent) that is ever scanned.
SCAN_CHARS = 4096
EXCERPT_CHARS = 40  # characters kept either side of a match in an event's detail


def _word(*words: str) -> str:
    """`words` as whole words, each starting with its literal first letter (see above)."""
    return "(?:" + "|".join(f"{w[0]}(?<!\\w{w[0]}){w[1:]}" for w in words) + ")"


_SEP = r"[\s/*+]{1,20}"  # what separates SQL keywords in probes: spaces, comments, plus signs

# (kind, label, pattern), all lower case; a label names the pattern in an event.
_PATTERNS: tuple[tuple[str, str, str], ...] = (
    # SQL injection
    (SQL_INJECTION, "union-select", _word("union") + f"{_SEP}(?:(?:all|distinct){_SEP})?select\\b"),
    (
        SQL_INJECTION,
        "tautology",
        r"['\")]\s{0,5}(?:or|and|\|\||&&)\s{1,5}['\"(]{0,2}\s{0,3}\w{1,20}['\"]?\s{0,3}"
        r"(?:=|<>|!=|like\b)\s{0,3}['\"]?\w{1,20}",
    ),
    (
        SQL_INJECTION,
        "numeric-tautology",
        _word("or", "and") + r"\s{1,5}(?P<operand>\d{1,9})\s{0,3}=\s{0,3}(?P=operand)\b",
    ),
    (SQL_INJECTION, "quote-comment", r"'\s{0,2}(?:--|/\*)"),
    (
        SQL_INJECTION,
        "stacked-query",
        r";\s{0,5}(?:(?:drop|truncate|alter)\s{1,5}(?:table|database|schema)\b"
        r"|delete\s{1,5}from\b|insert\s{1,5}into\b|exec(?:ute)?\s{1,5}\w|shutdown\b)",
    ),
    (
        SQL_INJECTION,
        "time-delay",
        _word("sleep", "pg_sleep", "benchmark")
        + r"\s{0,3}\(\s{0,3}\d|"
        + _word("waitfor")
        + r"\s{1,5}delay\b",
    ),
    (
        SQL_INJECTION,
        "system-catalog",
        _word("information_schema", "pg_catalog", "sysobjects", "xp_cmdshell")
        + r"\b|"
        + _word("load_file")
        + r"\s{0,3}\(|"
        + _word("into")
        + r"\s{1,5}(?:out|dump)file\b",
    ),
    # Cross-site scripting
    (XSS, "script-tag", r"<\s{0,3}/?\s{0,3}script\b"),
    (XSS, "event-handler", r"<[a-z][^<>]{0,200}?\bon[a-z]{3,20}\s{0,3}="),
    (XSS, "script-uri", _word("javascript", "vbscript", "livescript") + r"\s{0,3}:(?=\S)"),
    (XSS, "active-tag", r"<\s{0,3}(?:iframe|object|embed|svg|math|base|frameset|meta)\b"),
    (XSS, "html-data-uri", _word("data") + r":text/html\b"),
    (
        XSS,
        "dom-sink",
        _word("document")
        + r"\.(?:cookie|domain|write)\b|"
        + _word("eval")
        + r"\s{0,3}\(|"
        + _word("alert")
        + r"\s{0,3}\(\s{0,3}[\d'\"`]",
    ),
    # Path traversal (in text decoded once; %2e%2e is a second encoding)
    (
        PATH_TRAVERSAL,
        "dot-dot",
        r"(?:\.\.|%2e%2e|\.%2e|%2e\.)(?:[/\\]|%2f|%5c|%c0%af)|/\.\.(?:$|[?#])",
    ),
    (
        PATH_TRAVERSAL,
        "system-file",
        r"/etc/(?:passwd|shadow|group|hosts)\b|/proc/self/|"
        + _word("win", "boot", "system")
        + r"\.ini\b|c:[/\\]windows[/\\]",
    ),
    # NUL: a decoded \x00, or %00 that was encoded twice
    (NULL_BYTE, "nul", r"\x00|%00"),
)

# Tools whose user agent announces a scan; ordinary clients (curl, python-requests) are not.
_SCANNER_NAMES = (
    "sqlmap",
    "nikto",
    "nmap",
    "masscan",
    "zgrab",
    "nuclei",
    "acunetix",
    "netsparker",
    "wpscan",
    "dirbuster",
    "gobuster",
    "feroxbuster",
    "ffuf",
    "wfuzz",
    "hydra",
    "nessus",
    "openvas",
    "w3af",
    "havij",
    "arachni",
    "whatweb",
    "skipfish",
    "jaeles",
    "commix",
    "xsstrike",
    "appscan",
    "zmeu",
    "fimap",
    "webinspect",
    "sqlninja",
    "dotdotpwn",
    "burpsuite",
    "metasploit",
)
_SCANNERS = re.compile(_word(*_SCANNER_NAMES) + r"\b")

_COMPILED = tuple((kind, label, re.compile(pattern)) for kind, label, pattern in _PATTERNS)
# Control characters are shown escaped in stored text (and PostgreSQL refuses NUL).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Finding:
    """One suspicious pattern in one part of a request."""

    kind: str
    label: str
    where: str  # path, query, body or user agent
    excerpt: str  # the matched text with some context; "" where the text may be private


def scan(text: str, where: str, *, excerpt: bool = True) -> list[Finding]:
    """The first finding of each kind in (at most SCAN_CHARS of) `text`."""
    text = text[:SCAN_CHARS]
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lower-case to two: show the lowered text
        text = lowered
    found: dict[str, Finding] = {}
    for kind, label, regex in _COMPILED:
        if kind in found:
            continue
        match = regex.search(lowered)
        if match is not None:
            shown = _excerpt(text, match.start(), match.end()) if excerpt else ""
            found[kind] = Finding(kind, label, where, shown)
    return list(found.values())


def scan_user_agent(user_agent: str) -> Finding | None:
    """A scanner named in the user agent, if any."""
    user_agent = user_agent[:SCAN_CHARS]
    match = _SCANNERS.search(user_agent.lower())
    if match is None:
        return None
    return Finding(SCANNER, match.group(0), "user agent", printable(user_agent[:200]))


def printable(text: str) -> str:
    """`text` with control characters escaped (\\x00), safe to store and show."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def _excerpt(text: str, start: int, end: int) -> str:
    left, right = max(0, start - EXCERPT_CHARS), min(len(text), end + EXCERPT_CHARS)
    shown = text[left:right]
    return printable(("…" if left else "") + shown + ("…" if right < len(text) else ""))
