"""The plan generation: a number that moves whenever the plan mirror changes.

Cached API reads put the generation in their keys, so once a write to the mirror
(``apps.core.services.mirror``, the only code that writes plan rows) has committed and
moved the generation, every process reads new keys: nothing older than that write is
served, whatever the cache TTL.

SHARED BY EVERY PROCESS. The generation is the "plan" area of the config-version mechanism
(``apps.core.config_versions``): a ConfigVersion row in the database every process shares,
copied into the Redis hash when Redis is configured. The process that writes moves its own
generation at once (the very next read there is fresh); the others follow at their next
watcher check, at most a second later (on a request, or in a worker loop).

NEVER REUSED. A bump sets the version to at least the current time in microseconds, and
always above the last one; a row that does not exist yet starts from the current time. So
a fresh database, one restored from a backup or a Redis that lost its hash never brings
back a generation whose entries may still sit in Redis or in a process's memory tier. For
the same reason a process only ever moves its generation forward: it reads the row itself
when the watcher says the area moved, rather than trusting the hash, which may lag (two
writers' broadcasts can land out of order) or have lost the area (Redis flushed).
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import DatabaseError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from apps.core.config_versions import config_version_bump
from apps.core.models import ConfigVersion

logger = logging.getLogger(__name__)

AREA = "plan"

_lock = threading.Lock()
_current: int | None = None  # this process's generation; None until first read


def plan_generation() -> int:
    """The current plan generation in this process."""
    current = _current
    if current is None:
        current = _advance(_stored())
    return current


def plan_generation_bump() -> int:
    """Move every process to a new generation (after a mirror write committed); returns it."""
    floor = _now_us()
    try:
        with transaction.atomic():
            ConfigVersion.objects.get_or_create(name=AREA, defaults={"version": floor})
            ConfigVersion.objects.filter(name=AREA).update(
                version=Greatest(F("version"), Value(floor))
            )
            version = config_version_bump(AREA)
    except DatabaseError:
        # The mirror write has committed: at least this process must not serve older reads.
        # The others follow at the next bump that reaches the database.
        logger.exception("Could not store the new plan generation; moving this process only")
        version = max((_current or 0) + 1, floor)
    return _advance(version)


def plan_generation_follow(version: int) -> None:
    """Watcher callback: the "plan" area moved (or this process starts); catch up."""
    # `version` comes from the Redis hash, which may lag the row or lack the area.
    _advance(_stored())


def _stored() -> int:
    row, _ = ConfigVersion.objects.get_or_create(name=AREA, defaults={"version": _now_us()})
    return row.version


def _now_us() -> int:
    return time.time_ns() // 1000


def _advance(version: int) -> int:
    global _current
    with _lock:
        if _current is None or version > _current:
            _current = version
        return _current


def forget() -> None:
    """Drop this process's generation, as a new process would start (tests)."""
    global _current
    with _lock:
        _current = None
