"""prevent_injection: refuse prompts that are SQL-injection probes, pass every question.

A question reaches the model and the ORM's parameterised queries, never SQL, so nothing a
user types can inject SQL; the seed still refused its pen-test payloads with a 400 naming
"injection", and refusing a probe early (and recording it as a security event) tells
auditors someone is trying. The rules therefore aim at the shapes of probes, not at the
characters they use: quotes, `#`, `--`, `;`, accents and job names such as PAY_RUN#01 all
occur in ordinary questions (tests/core/assistant/test_prompt_validation.py keeps a table of
them). Each rule is one of:

  stacked-query    `; DROP TABLE`, `; DELETE FROM`, `; INSERT INTO`, `; EXEC x`...
  union-select     `UNION [ALL] SELECT`
  quote-comment    a quote closing a string, then a comment with nothing after it:
                   `admin' --`, `x' #`, `x') /*` (not `'PAYROLL' -- the nightly one`)
  tautology        `' OR '1'='1`, `OR 1=1`: a quote or keyword and the same operand twice
  time-delay       `SLEEP(5)`, `pg_sleep(1)`, `WAITFOR DELAY`, `BENCHMARK(`
  system-catalog   information_schema, pg_catalog, xp_cmdshell

Bounded: every repetition has an upper bound and none is nested; at most MAX_SCAN
characters are looked at (the serializer caps prompts at 10,000 anyway).
"""

from __future__ import annotations

import re

INJECTION = "The prompt looks like an SQL injection attempt ({rule}); ask in plain language."
MAX_SCAN = 10_000

_SEP = r"(?:\s|/\*.{0,40}?\*/){1,20}"  # spaces and inline comments, as probes separate words
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE | re.DOTALL))
    for name, pattern in (
        (
            "stacked-query",
            r";\s{0,10}(?:(?:drop|truncate|alter)" + _SEP + r"(?:table|database|schema|user)\b"
            r"|delete"
            + _SEP
            + r"from\b|insert"
            + _SEP
            + r"into\b|update"
            + _SEP
            + r"\w{1,64}"
            + _SEP
            + r"set\b|exec(?:ute)?"
            + _SEP
            + r"\w|shutdown\b)",
        ),
        ("union-select", r"\bunion" + _SEP + r"(?:(?:all|distinct)" + _SEP + r")?select\b"),
        ("quote-comment", r"['\"`][\s);]{0,10}(?:--|#|/\*)\W{0,10}\Z"),
        (
            "tautology",
            r"['\"`)]\s{0,5}(?:or|and|\|\|)\s{1,5}(['\"]?)(\w{1,20})\1\s{0,3}=\s{0,3}['\"]?\2\b"
            r"|\b(?:or|and)\s{1,5}(\d{1,9})\s{0,3}=\s{0,3}\3\b",
        ),
        (
            "time-delay",
            r"\b(?:sleep|pg_sleep|benchmark)\s{0,3}\(\s{0,3}\d|\bwaitfor\s{1,5}delay\b",
        ),
        ("system-catalog", r"\b(?:information_schema|pg_catalog|sysobjects|xp_cmdshell)\b"),
    )
)


def injection_rule(text: str) -> str | None:
    """The name of the first rule `text` matches, or None for an ordinary question."""
    text = text[:MAX_SCAN]
    for name, regex in _RULES:
        if regex.search(text):
            return name
    return None


def prevent_injection(text: str) -> None:
    """Raise ValueError (whose message mentions "injection") if `text` is a probe."""
    rule = injection_rule(text)
    if rule is not None:
        raise ValueError(INJECTION.format(rule=rule))
