"""Rate limits: DRF throttles whose counters every process shares.

DRF's SimpleRateThrottle keeps a list of timestamps per client and rewrites it on every
request: a read and a write of a growing list, and two processes racing lose each other's
requests. These throttles keep one counter per client and fixed window instead (one atomic
Redis INCR per request; a burst of up to twice the rate can straddle a window edge).

The counters live in the cache alias `settings.RESYNC_THROTTLE_CACHE`: Redis itself when
REDIS_URL is set (never the tiered default cache, whose per-process memory tier would give
each process its own count), this process's memory otherwise (the embedded default serves
from one process; security.W010 warns when several would each count alone). If Redis is
unreachable the throttles let requests through: an outage of the counter store must not
become an outage of the API.

Rates (`settings.RESYNC_THROTTLE_RATES`, "N/s|min|hour|day", None = off):
- anon: unauthenticated requests, per client IP;
- user: JWT or session requests, per user;
- api_key: API key requests, per key;
- login: every login attempt (token, admin, browsable API), per client IP, checked by
  apps.security.login before any password is hashed;
- csp_report: CSP violation reports (sent by browsers without credentials), per client IP;
- export: plan exports (each may stream the whole plan), per API key, user or client IP, on
  top of the general rates.
- assistant, assistant_api_key: questions to the assistant and confirmations of its
  proposals (each may cost model calls), per user and per API key, on top of user/api_key.
"""

from __future__ import annotations

import math
import os
import time

from django.conf import settings
from django.core.cache import caches
from django.core.checks import Warning, register
from rest_framework.throttling import SimpleRateThrottle

from apps.cache.engine import ShardedCache
from apps.security.api_keys.models import ApiKey
from apps.security.client_ip import client_ip

PER_PROCESS_THROTTLES = (
    "Rate limits and login throttling count per process ({workers} processes): without "
    "REDIS_URL each process lets a client through at the full rate."
)
PER_PROCESS_THROTTLES_HINT = "Set REDIS_URL so every process shares the counters."


def _clock() -> float:
    """Wall-clock seconds (a seam for tests)."""
    return time.time()


class SharedRateThrottle(SimpleRateThrottle):
    """A fixed-window counter per client in the shared throttle cache."""

    def get_rate(self) -> str | None:
        # Read at each request (not frozen at import as DRF does) so settings changes apply.
        return settings.RESYNC_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request) -> str:
        return client_ip(request)

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if not ident:
            return True
        now = _clock()
        window = int(now // self.duration)
        self.wait_seconds = (window + 1) * self.duration - now
        count = _count(f"throttle:{self.scope}:{ident}:{window}", self.duration + 1)
        return count is None or count <= self.num_requests

    def wait(self) -> float:
        return math.ceil(self.wait_seconds)


def _count(key: str, timeout: int) -> int | None:
    """Add one to the counter and return it; None when the store is unreachable."""
    cache = caches[settings.RESYNC_THROTTLE_CACHE]
    try:
        return cache.incr(key)
    except ValueError:  # first request of the window
        if cache.add(key, 1, timeout=timeout):
            return 1
        try:
            return cache.incr(key)
        except ValueError:
            return None


def _is_api_key(auth) -> bool:
    return isinstance(auth, ApiKey)


class AnonThrottle(SharedRateThrottle):
    """Unauthenticated requests, per client IP (an unknown address is not throttled)."""

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.get_ident(request) or None


class ClientIpThrottle(SharedRateThrottle):
    """Every caller by client IP at the anonymous rate, without reading who they are.

    For views that must answer while users cannot be read (health during a database outage).
    """

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        return self.get_ident(request) or None


class CspReportThrottle(SharedRateThrottle):
    """CSP violation reports, per client IP: browsers send them without credentials."""

    scope = "csp_report"

    def get_cache_key(self, request, view) -> str | None:
        return self.get_ident(request) or None


class UserThrottle(SharedRateThrottle):
    """Requests authenticated as a user (JWT or session), per user."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if not (request.user and request.user.is_authenticated) or _is_api_key(request.auth):
            return None
        return str(request.user.pk)


class ApiKeyThrottle(SharedRateThrottle):
    """Requests authenticated with an API key, per key."""

    scope = "api_key"

    def get_cache_key(self, request, view) -> str | None:
        return request.auth.prefix if _is_api_key(request.auth) else None


class ExportThrottle(SharedRateThrottle):
    """Plan exports, per API key, user, or client IP: one streams up to the whole plan, so
    they get a rate of their own, far below that of page reads."""

    scope = "export"

    def get_cache_key(self, request, view) -> str | None:
        if _is_api_key(request.auth):
            return f"key:{request.auth.prefix}"
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return self.get_ident(request) or None


class AssistantUserThrottle(UserThrottle):
    """Assistant requests authenticated as a user, per user (model calls are expensive)."""

    scope = "assistant"


class AssistantApiKeyThrottle(ApiKeyThrottle):
    """Assistant requests authenticated with an API key, per key."""

    scope = "assistant_api_key"


class LoginThrottle(SharedRateThrottle):
    """Login attempts, per client IP."""

    scope = "login"

    def get_cache_key(self, request, view) -> str | None:
        return self.get_ident(request) or None


# An address over the login rate is refused from memory until its window ends: a flood of
# guesses then costs this process neither a cache round trip nor a password hash.
_login_blocked = ShardedCache(
    ttl_seconds=60, max_entries=100_000, max_memory_bytes=16 * 2**20, num_shards=8
)


def login_throttle_wait(request) -> float | None:
    """Seconds this client must wait before its next login attempt, or None if it may try."""
    ip = client_ip(request)
    if not ip:
        return None
    until = _login_blocked.get(ip)
    now = _clock()
    if until is not None and until > now:
        return until - now
    throttle = LoginThrottle()
    if throttle.allow_request(request, None):
        return None
    _login_blocked.set(ip, now + throttle.wait_seconds, ttl=throttle.wait_seconds)
    return throttle.wait_seconds


def forget_login_blocks() -> None:
    """Drop this process's memory of throttled addresses (tests)."""
    _login_blocked.clear()


@register()
def check_shared_counters(app_configs, **kwargs) -> list[Warning]:
    # Unset means the embedded server: one process. (A bad value is core.W001's to report.)
    try:
        workers = int(os.environ.get("WEB_CONCURRENCY") or 1)
    except ValueError:
        workers = 1
    if settings.REDIS_URL or workers <= 1:
        return []
    message = PER_PROCESS_THROTTLES.format(workers=workers)
    return [Warning(message, hint=PER_PROCESS_THROTTLES_HINT, id="security.W010")]
