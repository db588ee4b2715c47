"""Login lockout: django-axes, with a handler that keeps its counters in a shared cache.

django-axes does the wiring: its backend (first in AUTHENTICATION_BACKENDS) refuses a locked
client before any password is hashed, its signal receivers report every failed login here,
its middleware turns a lockout into our 429 problem, and its `axes_reset_*` commands call
`reset_attempts`. This handler adds what axes' own handlers lack:

- one limit per (username, client IP) and a higher one per client IP
  (`RESYNC_LOCKOUT_FAILURES`, `RESYNC_LOCKOUT_IP_FAILURES` within `RESYNC_LOCKOUT_MINUTES`);
- counters and locks in the cache alias `settings.RESYNC_LOCKOUT_CACHE`: Redis when
  REDIS_URL is set, a database table otherwise, so every process sees the same lockouts;
- a lock that knows when it ends (for `Retry-After`), and an index so a username or an
  address can be unlocked without knowing the other half of the pair;
- audit rows for every failure, lockout and unlock.

An address that cannot be known ("", see client_ip) gets no per-address limit, and its
(username, address) pair degrades to the username alone: never one bucket for everyone.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import asdict, dataclass

from axes.backends import AxesStandaloneBackend
from axes.handlers.base import AbstractAxesHandler, AxesBaseHandler
from axes.helpers import get_client_username
from axes.signals import user_locked_out
from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, JsonResponse

from apps.core.api.errors import PROBLEM_CONTENT_TYPE, problem_body
from apps.monitoring.services import audit_record
from apps.security.client_ip import client_ip

logger = logging.getLogger(__name__)

LOCKED_OUT = "Too many failed logins from this client. Try again in {seconds} s."
USERNAME_MAX = 100  # typed by anyone: kept short in cache keys' index and audit targets


def _clock() -> float:
    """Wall-clock seconds (a seam for tests)."""
    return time.time()


@dataclass(frozen=True)
class Lock:
    """One active lock: whom it holds and until when (epoch seconds)."""

    kind: str  # "user_ip" or "ip"
    username: str
    ip: str
    until: float

    @property
    def target(self) -> str:
        return f"ip:{self.ip}" if self.kind == "ip" else f"user:{self.username}@{self.ip or '?'}"


def _cache():
    return caches[settings.RESYNC_LOCKOUT_CACHE]


def _window() -> int:
    return int(settings.RESYNC_LOCKOUT_MINUTES * 60)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def _username(username: str | None) -> str:
    return (username or "")[:USERNAME_MAX]


def _subjects(username: str, ip: str) -> list[tuple[str, str, int]]:
    """(kind, key part, limit) for each counter a login from (username, ip) counts in."""
    subjects = []
    if username or ip:
        subjects.append(("user_ip", _digest("u", username, ip), settings.RESYNC_LOCKOUT_FAILURES))
    if ip:
        subjects.append(("ip", _digest("i", ip), settings.RESYNC_LOCKOUT_IP_FAILURES))
    return subjects


def lock_status(*, username: str | None, ip: str) -> Lock | None:
    """The lock holding this (username, ip) that ends last, or None."""
    username = _username(username)
    keys = [f"lockout:lock:{part}" for _, part, _ in _subjects(username, ip)]
    found = _cache().get_many(keys) if keys else {}
    now = _clock()
    locks = [Lock(**value) for value in found.values() if value and value["until"] > now]
    return max(locks, key=lambda lock: lock.until, default=None)


def retry_after(lock: Lock) -> int:
    return max(1, math.ceil(lock.until - _clock()))


def failure_record(*, username: str | None, ip: str) -> list[Lock]:
    """Count one failed login; returns the locks this failure started."""
    username = _username(username)
    subjects = _subjects(username, ip)
    if not subjects:  # neither a username nor an address: nothing to count against
        return []
    cache, window = _cache(), _window()
    _index_add(cache, username, ip, window)
    started = []
    for kind, part, limit in subjects:
        counter = f"lockout:n:{part}"
        cache.add(counter, 0, timeout=window)  # the window starts at the first failure
        try:
            failures = cache.incr(counter)
        except ValueError:  # expired between add and incr: this failure opens a new window
            cache.add(counter, 1, timeout=window)
            failures = 1
        if failures is not None and failures >= limit:
            lock = Lock(kind=kind, username=username, ip=ip, until=_clock() + window)
            # add, not set: guesses already past the guard when the lock began (a burst of
            # concurrent ones) neither extend it nor report it again.
            if cache.add(f"lockout:lock:{part}", asdict(lock), timeout=window):
                started.append(lock)
            cache.delete(counter)
    return started


def failures_forget(*, username: str | None, ip: str) -> None:
    """A successful login clears its (username, ip) counter; the per-IP one stays, so one
    valid account cannot be used to wipe an address's record between guesses."""
    _cache().delete(f"lockout:n:{_digest('u', _username(username), ip)}")


def _index_add(cache, username: str, ip: str, window: int) -> None:
    # Read-modify-write: two processes may race and drop one entry, which only means an
    # unlock misses a pair that expires by itself within the window.
    for key, item in (
        (f"lockout:ips:{_digest(username)}", ip),
        (f"lockout:users:{_digest(ip)}", username),
    ):
        members = cache.get(key) or []
        if item not in members:
            cache.set(key, [*members, item][-1000:], timeout=window)


def unlock(*, username: str | None = None, ip: str | None = None) -> list[Lock]:
    """Lift the locks and counters of a username (with every address it failed from) or of
    an address (its own and every username's at it). Returns the locks that were active."""
    cache = _cache()
    if username is not None:
        username = _username(username)
        pairs = [(username, other) for other in cache.get(f"lockout:ips:{_digest(username)}") or []]
        index_key = f"lockout:ips:{_digest(username)}"
    else:
        ip = ip or ""
        pairs = [(other, ip) for other in cache.get(f"lockout:users:{_digest(ip)}") or []]
        index_key = f"lockout:users:{_digest(ip)}"
    parts = {_digest("u", name, address) for name, address in pairs}
    if username is None:
        parts.add(_digest("i", ip))
    lock_keys = [f"lockout:lock:{part}" for part in parts]
    now = _clock()
    lifted = [Lock(**v) for v in cache.get_many(lock_keys).values() if v and v["until"] > now]
    cache.delete_many([*lock_keys, *(f"lockout:n:{part}" for part in parts), index_key])
    return lifted


# --- axes integration ------------------------------------------------------------------


def login_source(request) -> str:
    """The audit source of a login: the admin's form, or the API (token, browsable login)."""
    return "admin" if getattr(request, "path", "").startswith("/admin/") else "api"


class LockoutHandler(AbstractAxesHandler, AxesBaseHandler):
    """settings.AXES_HANDLER: axes' handler interface over the shared-cache counters above."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return (
            lock_status(username=get_client_username(request, credentials), ip=client_ip(request))
            is not None
        )

    def get_failures(self, request, credentials: dict | None = None) -> int:
        username = _username(get_client_username(request, credentials))
        keys = [f"lockout:n:{part}" for _, part, _ in _subjects(username, client_ip(request))]
        return max(_cache().get_many(keys).values(), default=0)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        if request is None or self.is_whitelisted(request, credentials):
            return
        if getattr(request, "axes_locked_out", False):  # refused by the lock, not a password
            return
        username, ip = get_client_username(request, credentials), client_ip(request)
        audit_record(
            actor=None,
            source=login_source(request),
            action="login.failed",
            target=f"user:{_username(username)}",
            outcome="failed",
            detail=f"wrong credentials at {request.path}",
        )
        locks = failure_record(username=username, ip=ip)
        for lock in locks:
            _lockout_audit(request, lock)
            user_locked_out.send("axes", request=request, username=username, ip_address=ip)
        if locks:
            # The request may be DRF's wrapper: flag the Django request the middleware sees.
            for target in (request, _http(request)):
                target.axes_locked_out = True
                target.axes_credentials = credentials

    def user_logged_in(self, sender, request, user, **kwargs) -> None:
        """Audited by the backend at authentication time (token logins send no signal)."""

    def user_logged_out(self, sender, request, user, **kwargs) -> None:
        """Nothing to count."""

    def reset_attempts(
        self,
        *,
        ip_address: str | None = None,
        username: str | None = None,
        ip_or_username: bool = False,
    ) -> int:
        """axes_reset_ip / axes_reset_username: lift locks (not audited: use `unlock`)."""
        lifted = []
        if username is not None:
            lifted += unlock(username=username)
        if ip_address is not None:
            lifted += unlock(ip=ip_address)
        return len(lifted)


def _http(request):
    return getattr(request, "_request", request)


def _lockout_audit(request, lock: Lock) -> None:
    logger.warning("Login locked out: %s until %s", lock.target, time.ctime(lock.until))
    audit_record(
        actor=None,
        source=login_source(request),
        action="login.lockout",
        target=lock.target,
        outcome="failed",
        detail=f"locked for {_window()} s after too many failed logins",
    )


class LockoutBackend(AxesStandaloneBackend):
    """axes' backend, except that a login without a request (a management command, the
    shell, a test client's `login`) is no client to lock and passes straight on."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> JsonResponse:
    """settings.AXES_LOCKOUT_CALLABLE: the 429 problem, with Retry-After."""
    username = get_client_username(request, credentials) if credentials else None
    lock = lock_status(username=username, ip=client_ip(request))
    seconds = retry_after(lock) if lock else _window()
    return too_many_response(LOCKED_OUT.format(seconds=seconds), seconds)


def too_many_response(detail: str, retry_after_seconds: float) -> JsonResponse:
    """A 429 problem body (RFC 9457) with Retry-After, for Django views and middleware."""
    seconds = max(1, math.ceil(retry_after_seconds))
    response = JsonResponse(
        problem_body(429, detail), status=429, content_type=PROBLEM_CONTENT_TYPE
    )
    response["Retry-After"] = str(seconds)
    return response


def lockout_lift(*, target: str, actor, source: str) -> list[Lock]:
    """Unlock a username or a client address (`target` is either); audited. Returns the
    locks that were active; lifting an idle target still clears its counters."""
    ip = _ip_or_none(target)
    lifted = unlock(ip=ip) if ip is not None else unlock(username=target)
    audit_record(
        actor=actor,
        source=source,
        action="login.unlock",
        target=f"ip:{ip}" if ip is not None else f"user:{_username(target)}",
        after={"locks_lifted": [lock.target for lock in lifted]},
    )
    return lifted


def _ip_or_none(text: str) -> str | None:
    try:
        return ipaddress.ip_address(text.strip()).compressed
    except ValueError:
        return None
