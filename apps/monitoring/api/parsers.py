"""Parsers of Content-Security-Policy violation reports, as browsers send them.

Two formats, both JSON under their own media types, which DRF's JSON parser does not take:

- `application/csp-report` (the `report-uri` directive): one object,
  `{"csp-report": {"violated-directive": ..., "blocked-uri": ..., "document-uri": ...}}`;
- `application/reports+json` (the Reporting API, `report-to`): an array of reports, of
  which those with `"type": "csp-violation"` carry `body.effectiveDirective`,
  `body.blockedURL` and `body.documentURL`; other types (deprecations...) are skipped.

Both parse into a list of CspViolation. A body is at most CSP_REPORT_MAX_BYTES (a 413
beyond, without reading further); anything else malformed is a 400.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

CSP_REPORT_MAX_BYTES = 64 * 1024
TEXT_MAX = 512
REPORT_TOO_LARGE = f"A CSP report body is at most {CSP_REPORT_MAX_BYTES:,} bytes."
NOT_JSON = "The report is not valid JSON (UTF-8)."
NOT_A_CSP_REPORT = 'A report-uri body is a JSON object holding a "csp-report" object.'
NOT_REPORTS = "A Reporting API body is a JSON array of report objects."
NOT_A_VIOLATION = 'A "csp-violation" report has a "body" object.'


# What these parsers accept, as JSON schemas (the OpenAPI description of the endpoint).
CSP_REPORT_SCHEMA = {
    "type": "object",
    "required": ["csp-report"],
    "properties": {"csp-report": {"type": "object"}},
}
REPORTS_SCHEMA = {
    "type": "array",
    "items": {
        "anyOf": [
            {
                "type": "object",
                "required": ["type", "body"],
                "properties": {"type": {"enum": ["csp-violation"]}, "body": {"type": "object"}},
            },
            {  # other report types (deprecations...) are skipped, whatever they hold
                "type": "object",
                "properties": {"type": {"not": {"enum": ["csp-violation"]}}},
            },
        ]
    },
}


class ReportTooLarge(APIException):
    status_code = 413
    default_detail = REPORT_TOO_LARGE


@dataclass(frozen=True, slots=True)
class CspViolation:
    """One violation as a browser reported it."""

    directive: str
    blocked_uri: str
    document_uri: str
    disposition: str


def _text(value: Any) -> str:
    """A report field as text (browsers send strings, line numbers as numbers), cut short."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)[:TEXT_MAX]
    return ""


class _ReportParser(BaseParser):
    def parse(self, stream, media_type=None, parser_context=None) -> list[CspViolation]:
        raw = stream.read(CSP_REPORT_MAX_BYTES + 1)
        if len(raw) > CSP_REPORT_MAX_BYTES:
            raise ReportTooLarge()
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            raise ParseError(NOT_JSON) from None
        return self.violations(data)

    def violations(self, data: Any) -> list[CspViolation]:
        raise NotImplementedError


class CspReportParser(_ReportParser):
    """`report-uri` reports: one violation per body."""

    media_type = "application/csp-report"

    def violations(self, data: Any) -> list[CspViolation]:
        report = data.get("csp-report") if isinstance(data, dict) else None
        if not isinstance(report, dict):
            raise ParseError(NOT_A_CSP_REPORT)
        directive = report.get("effective-directive") or report.get("violated-directive")
        return [
            CspViolation(
                directive=_text(directive),
                blocked_uri=_text(report.get("blocked-uri")),
                document_uri=_text(report.get("document-uri")),
                disposition=_text(report.get("disposition")) or "enforce",
            )
        ]


class ReportsJsonParser(_ReportParser):
    """Reporting API reports: the csp-violation ones of a batch."""

    media_type = "application/reports+json"

    def violations(self, data: Any) -> list[CspViolation]:
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise ParseError(NOT_REPORTS)
        found = []
        for report in data:
            if report.get("type") != "csp-violation":
                continue
            body = report.get("body")
            if not isinstance(body, dict):
                raise ParseError(NOT_A_VIOLATION)
            found.append(
                CspViolation(
                    directive=_text(body.get("effectiveDirective")),
                    blocked_uri=_text(body.get("blockedURL")),
                    document_uri=_text(body.get("documentURL") or report.get("url")),
                    disposition=_text(body.get("disposition")) or "enforce",
                )
            )
        return found
