"""The CORS allow-list in this process's memory, and django-cors-headers' question about it.

django-cors-headers sends its `check_request_enabled` signal for a cross-origin request
(its own static settings list nothing, see settings.py); `cors_request_allowed` answers
from a frozenset of the enabled origins, so no request queries the database. The "cors"
config-version watcher reloads the set when a row changes (apps/security/cors/services.py),
within a second in every process. Until the first load succeeds, no origin is allowed.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings

from apps.security.cors.selectors import cors_enabled_origins

logger = logging.getLogger(__name__)

_allowed: frozenset[str] = frozenset()


def cors_allowlist() -> frozenset[str]:
    """The origins this process allows now."""
    return _allowed


def cors_allowlist_reload(version: int = 0) -> None:
    """The watcher callback: read the enabled origins (a DatabaseError is retried later)."""
    global _allowed
    _allowed = cors_enabled_origins()
    logger.info("CORS allow-list v%s loaded: %d origin(s)", version, len(_allowed))


def cors_allowlist_forget() -> None:
    """Allow no origin until the next reload (tests)."""
    global _allowed
    _allowed = frozenset()


def cors_request_allowed(sender: Any, request: Any, **kwargs: Any) -> bool:
    """The signal receiver: True for an API request from an enabled origin.

    django-cors-headers also asks it whether CORS applies to a path outside
    CORS_URLS_REGEX (the admin, static files): the path is checked here so the answer
    there stays no.
    """
    origin = request.META.get("HTTP_ORIGIN")
    return origin in _allowed and re.match(settings.CORS_URLS_REGEX, request.path_info) is not None
