"""One mechanism to apply live configuration changes in every process.

A change to an editable configuration (pools, cache) is saved by its service, which then
calls `config_version_bump(area)`: the area's counter goes up in the database and, once
the transaction commits, is copied into a Redis hash when Redis is configured. Every
process runs `watcher.poll()` at the start of each request (ConfigRefreshMiddleware) and
in its worker loops; at most once per second it reads the versions (one Redis HGETALL, or
one small query without Redis) and calls the callbacks registered for each area whose
version moved, so each process rebuilds only what changed, within about a second.

The database stays the source of truth: if Redis is down or lost its hash, the watcher
reads the database instead, and a process that starts applies the current values once.
If neither can be read (the database is down), nothing changes: every area keeps what it
runs, and the next check (a second later) tries again. On the request path that read
waits at most settings.DB_REQUEST_TIMEOUT, and nothing while the database is known to be
down (apps/core/pools/outage.py). A callback that cannot read its settings (a
DatabaseError) is retried at each check until it succeeds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.models import ConfigVersion

logger = logging.getLogger(__name__)

POLL_INTERVAL_S = 1.0
REDIS_HASH = "resync:config-versions"

Callback = Callable[[int], None]


def _redis():
    """A Redis client from REDIS_URL, or None. Imported lazily: Redis is optional."""
    if not settings.REDIS_URL:
        return None
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)


@transaction.atomic
def config_version_bump(name: str) -> int:
    """Increase an area's version; other processes apply the change within a second."""
    ConfigVersion.objects.get_or_create(name=name)
    ConfigVersion.objects.filter(name=name).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    version = ConfigVersion.objects.values_list("version", flat=True).get(name=name)
    transaction.on_commit(lambda: _broadcast(name, version))
    return version


def _broadcast(name: str, version: int) -> None:
    client = watcher.redis_client()
    if client is None:
        return
    try:
        client.hset(REDIS_HASH, name, version)
    except Exception as exc:
        logger.warning("Could not broadcast config version %s=%s: %s", name, version, exc)
    # Apply in this process now (or have the thread applying at this moment re-check).
    watcher.poll(force=True)


class ConfigWatcher:
    """Calls registered callbacks when an area's version changes (per process)."""

    def __init__(self, interval: float = POLL_INTERVAL_S) -> None:
        self.interval = interval
        self._callbacks: dict[str, list[Callback]] = {}
        self._seen: dict[str, int] = {}
        self._next_check = 0.0
        self._lock = threading.Lock()
        # Set by a forced poll: the thread holding the lock checks again before releasing.
        self._recheck = False
        self._redis = None
        self._redis_url: str | None = None
        # Areas whose apply failed on a DatabaseError: logged once, retried at each check.
        self._postponed: set[str] = set()

    def register(self, name: str, callback: Callback) -> None:
        """Call `callback(version)` on each change of `name`, and once at first poll."""
        self._callbacks.setdefault(name, []).append(callback)

    def seen(self, name: str) -> int | None:
        """The version of `name` this process applied last (None before the first)."""
        return self._seen.get(name)

    def redis_client(self):
        if self._redis_url != settings.REDIS_URL:
            self._redis, self._redis_url = _redis(), settings.REDIS_URL
        return self._redis

    def poll(self, *, force: bool = False) -> None:
        """Check versions if a second has passed (or when forced) and apply changes.

        One thread checks; the others go on with the configuration they have. A forced
        poll never waits for the lock: the caller may hold what the thread applying needs
        (a pooled database connection, a row lock), so waiting could stall it behind a
        slow apply or deadlock. It asks the holder to check once more before letting go.
        """
        now = time.monotonic()
        if not force and now < self._next_check:
            return
        if force:
            self._recheck = True  # read after the holder's last check: it re-reads
        if not self._lock.acquire(blocking=False):
            return
        try:
            while True:
                self._recheck = False
                self._next_check = time.monotonic() + self.interval
                self._apply(self._read_versions())
                if not self._recheck:
                    break
        finally:
            self._lock.release()
        # A forced poll that arrived just after the loop ended but before the release.
        if self._recheck:
            self.poll(force=True)

    def _read_versions(self) -> dict[str, int] | None:
        """Every area's version, or None when they cannot be read (nothing must change)."""
        client = self.redis_client()
        if client is not None:
            try:
                raw = client.hgetall(REDIS_HASH)
                if raw:
                    return {k.decode(): int(v) for k, v in raw.items()}
            except Exception as exc:
                logger.debug("Config versions from Redis failed, using the database: %s", exc)
        try:
            return dict(ConfigVersion.objects.values_list("name", "version"))
        except DatabaseError as exc:  # not migrated yet, or the database is down
            logger.debug("Config versions unavailable: %s", exc)
            return None

    def _apply(self, versions: dict[str, int] | None) -> None:
        if versions is None:
            return
        for name, callbacks in self._callbacks.items():
            version = versions.get(name, 0)
            if self._seen.get(name) == version:
                continue
            if self._run(name, version, callbacks):
                self._seen[name] = version

    def _run(self, name: str, version: int, callbacks: list[Callback]) -> bool:
        """Call the area's callbacks; False if one could not read the database (retry)."""
        for callback in callbacks:
            try:
                callback(version)
            except DatabaseError as exc:
                if name not in self._postponed:
                    logger.warning(
                        "Applying %s configuration v%s postponed, the database cannot be "
                        "read (%s); retried every check",
                        name,
                        version,
                        exc,
                    )
                    self._postponed.add(name)
                return False
            except Exception:  # one broken area must not stop the others
                logger.exception("Applying %s configuration v%s failed", name, version)
        self._postponed.discard(name)
        return True

    def reset(self) -> None:
        """Forget what was applied (tests; a process that must re-apply everything)."""
        with self._lock:
            self._seen.clear()
            self._next_check = 0.0


watcher = ConfigWatcher()


class ConfigRefreshMiddleware:
    """Applies configuration changes made elsewhere before handling the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        watcher.poll()
        return self.get_response(request)
