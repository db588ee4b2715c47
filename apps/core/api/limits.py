"""The request body limit: an oversized body is a 413 problem on every path.

Django raises RequestDataTooBig only when something reads the body, and then the answer
depends on who read it: DRF gave a 500, the admin's CSRF check a 400 (a debug page with
DEBUG on). Checking the declared Content-Length first answers the same 413 everywhere and
never reads a byte of the body.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from apps.core.api.errors import body_too_large_detail, problem_response

BAD_CONTENT_LENGTH = "The Content-Length header is not a whole number of bytes."


class RequestBodyLimitMiddleware:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, an unreadable Content-Length a 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isascii() or not declared.isdigit():
            return problem_response(400, BAD_CONTENT_LENGTH)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and int(declared) > limit:
            return problem_response(413, body_too_large_detail())
        return self.get_response(request)
