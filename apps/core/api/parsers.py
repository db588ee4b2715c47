"""Request body parsers of every API view (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES)."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError

JSON_TOO_DEEP = "JSON parse error - the document is nested too deeply."


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering a 400 for a document nested past the recursion limit.

    Python's decoder recurses once per `[` or `{`, so `[` x 100,000 raises RecursionError,
    which is not the ValueError DRF turns into a ParseError.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(JSON_TOO_DEEP) from None
