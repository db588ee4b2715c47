"""API authentication: simplejwt with a short, process-local cache of the user row.

Every JWT request otherwise loads its user from the database: a query plus the ORM's
compile step, about half the cost of a cached API read. The user is kept for a few
seconds in this process only (never in Redis: the row holds the password hash). A change
to a user made in this process (deactivation, staff flag) evicts it at once; other
processes see it within USER_CACHE_SECONDS.

While the database cannot be read, the last row read (up to OUTAGE_USER_SECONDS old) keeps
authenticating its tokens, so cached plan reads are served through a database outage. No
one can change a user while the database is down; the exposure is a change made in the
last seconds before the outage in another process, for a user who sent no request since.
"""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.db import DatabaseError
from django.db.models.signals import post_delete, post_save
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings

from apps.cache.engine import ShardedCache

USER_CACHE_SECONDS = 5
OUTAGE_USER_SECONDS = 300

# key -> (user, monotonic time it was read); kept for the outage fallback, fresh for a while.
_users = ShardedCache(
    ttl_seconds=OUTAGE_USER_SECONDS,
    max_entries=10_000,
    max_memory_bytes=16 * 1024 * 1024,
    num_shards=4,
    cleanup_interval=60,
)


class CachedUserJWTAuthentication(JWTAuthentication):
    """JWT bearer authentication that re-reads the user at most every few seconds."""

    def get_user(self, validated_token):
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        key = str(user_id)  # tokens carry the id as text, model rows as an int
        entry = _users.get(key) if user_id is not None else None
        now = time.monotonic()
        if entry is not None and now - entry[1] < USER_CACHE_SECONDS:
            return entry[0]
        try:
            user = super().get_user(validated_token)  # also checks the user is active
        except DatabaseError:
            if entry is None:
                raise
            return entry[0]  # the database is unavailable: the last row read
        _users.set(key, (user, now))
        return user


def forget_user(*, user_id) -> None:
    _users.delete(str(user_id))


def _on_user_change(sender, instance, **kwargs) -> None:
    forget_user(user_id=getattr(instance, api_settings.USER_ID_FIELD))


post_save.connect(_on_user_change, sender=get_user_model(), dispatch_uid="resync-jwt-user")
post_delete.connect(_on_user_change, sender=get_user_model(), dispatch_uid="resync-jwt-user-del")
