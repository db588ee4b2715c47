"""API authentication: simplejwt with a short, process-local cache of the user row.

Every JWT request otherwise loads its user from the database: a query plus the ORM's
compile step, about half the cost of a cached API read, and two more queries for the
permission check. The user is kept, with its permissions, for a few seconds in this process
only (never in Redis: the row holds the password hash). A change to a user, their roles or a
role's permissions made in this process evicts it at once; other processes see it within
USER_CACHE_SECONDS.

The token is checked against the (cached) row on every request: an inactive user or a
token issued before the last password change is refused (apps/security/tokens.py), so a
password change, a deactivation or a deletion ends every token within USER_CACHE_SECONDS.
Likewise an access token whose sign-in (token family) was logged out or revoked for reuse
stops working within that time: the family's state is cached the same way.

A token's signature and claims are verified once per process: the verified token is kept,
keyed by its exact bytes, until its `exp` (a bounded map, VERIFIED_TOKENS_MAX entries). That
check costs more than the rest of a cached read together (issue 12's profile), and its
outcome cannot change before `exp`: the same bytes carry the same signature and claims.
What can change, the user, their password and the sign-in's family, is still checked on
every request against the cached row, so revocation works as before.

While the database cannot be read, the last row read (up to OUTAGE_USER_SECONDS old) keeps
authenticating its tokens, so cached plan reads are served through a database outage. No
one can change a user while the database is down; the exposure is a change made in the
last seconds before the outage in another process, for a user who sent no request since.
"""

from __future__ import annotations

import threading
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import DatabaseError
from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from apps.security.selectors import token_family_is_active
from apps.security.tokens import FAMILY_CLAIM, user_check, user_load

USER_CACHE_SECONDS = 5
NO_USER_CLAIM = "Token contained no recognizable user identification"
FAMILY_REVOKED = "This sign-in was ended (logout, or a refresh token was reused)."
OUTAGE_USER_SECONDS = 300
VERIFIED_TOKENS_MAX = 4096


class _Remembered:
    """A bounded map whose entries expire, holding the objects themselves: no pickling, which
    cost a cached read more than the rest of its authentication (issue 12's profile). The
    user rows are shared by the requests of this process, which only read them (their
    permissions were loaded with them).

    Reads take no lock: one dict lookup (atomic under the GIL) of an immutable (value,
    expiry) pair. cachetools' TTL caches took a lock and relinked their expiry lists on every
    read, a tenth of a cached read's authentication. When full, the entry written longest
    ago goes (a re-read moves an entry to the end): one step, whatever the size.
    """

    def __init__(self, *, maxsize: int, ttl: float = 0.0, clock=time.monotonic) -> None:
        self._entries: dict = {}
        self._maxsize, self._ttl, self._clock = maxsize, ttl, clock
        self._lock = threading.Lock()

    def get(self, key):
        entry = self._entries.get(key)
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]

    def set(self, key, value, *, expires: float | None = None) -> None:
        expires = self._clock() + self._ttl if expires is None else expires
        with self._lock:
            self._entries.pop(key, None)
            if len(self._entries) >= self._maxsize:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (value, expires)

    def delete(self, key) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# key -> (user or family state, monotonic time it was read); fresh for USER_CACHE_SECONDS,
# kept OUTAGE_USER_SECONDS for the outage fallback.
_users = _Remembered(maxsize=10_000, ttl=OUTAGE_USER_SECONDS)


def _clock() -> float:
    """Wall-clock seconds, as `exp` is (a seam for tests)."""
    return time.time()


# raw token bytes -> the verified token, until its exp.
_verified = _Remembered(maxsize=VERIFIED_TOKENS_MAX, clock=lambda: _clock())


class CachedUserJWTAuthentication(JWTAuthentication):
    """JWT bearer authentication that verifies each token once and re-reads the user at most
    every few seconds."""

    def get_validated_token(self, raw_token: bytes):
        token = _verified.get(raw_token)
        if token is None:
            token = super().get_validated_token(raw_token)  # raises on a bad token
            # simplejwt verified that `exp` exists; epoch seconds, as _clock() is.
            _verified.set(raw_token, token, expires=token.payload["exp"])
        return token

    def get_user(self, validated_token):
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        if user_id is None:
            raise InvalidToken(NO_USER_CLAIM)
        # Tokens carry the id as text, model rows as an int: key on the text.
        user = _remembered(str(user_id), lambda: _user_read(user_id))
        user_check(user, validated_token)
        family_id = validated_token.get(FAMILY_CLAIM)
        if family_id and not _family_is_active(family_id):
            raise AuthenticationFailed(FAMILY_REVOKED, code="token_family_revoked")
        return user


def _family_key(family_id: str) -> str:
    return f"family:{family_id}"  # beside the users' keys, which are plain ids


def _family_is_active(family_id: str) -> bool:
    return _remembered(_family_key(family_id), lambda: token_family_is_active(family_id))


def _user_read(user_id):
    user = user_load(user_id)
    if not user.is_superuser:  # superusers hold every permission without a query
        user.get_all_permissions()  # fills the per-object cache, pickled with the row
    return user


def _remembered(key: str, load):
    """`load()`, kept USER_CACHE_SECONDS; while the database is down, the last value read."""
    entry = _users.get(key)  # (value, monotonic time it was read)
    now = time.monotonic()
    if entry is not None and now - entry[1] < USER_CACHE_SECONDS:
        return entry[0]
    try:
        value = load()
    except DatabaseError:
        if entry is None:
            raise
        return entry[0]  # the database is unavailable: the last value read
    _users.set(key, (value, now))
    return value


def forget_verified_tokens() -> None:
    _verified.clear()


def user_remembered(user_id):
    """The user row with its permissions, kept USER_CACHE_SECONDS in this process: what a JWT
    request is served with, and the console's session requests too. 401 if there is none."""
    return _remembered(str(user_id), lambda: _user_read(user_id))


def forget_user(*, user_id) -> None:
    _users.delete(str(user_id))


def forget_all_users() -> None:
    _users.clear()


def forget_family(*, family_id: str) -> None:
    _users.delete(_family_key(family_id))


def _on_user_change(sender, instance, **kwargs) -> None:
    forget_user(user_id=getattr(instance, api_settings.USER_ID_FIELD))


def _on_user_m2m_change(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    # user.groups / user.user_permissions changed; `reverse` means the change was made
    # from the group's or permission's side, so pk_set holds users (or is None: clear).
    if not action.startswith("post_"):
        return
    if not reverse:
        forget_user(user_id=getattr(instance, api_settings.USER_ID_FIELD))
    elif pk_set is None:
        forget_all_users()
    else:
        for user_id in pk_set:
            forget_user(user_id=user_id)


def _on_role_permissions_change(sender, action, **kwargs) -> None:
    if action.startswith("post_"):
        forget_all_users()  # every member of the group holds other permissions now


def _on_role_delete(sender, **kwargs) -> None:
    forget_all_users()  # its members lost its permissions (a cascade sends no m2m signal)


_user_model = get_user_model()
post_save.connect(_on_user_change, sender=_user_model, dispatch_uid="resync-jwt-user")
post_delete.connect(_on_user_change, sender=_user_model, dispatch_uid="resync-jwt-user-del")
m2m_changed.connect(
    _on_user_m2m_change, sender=_user_model.groups.through, dispatch_uid="resync-jwt-groups"
)
m2m_changed.connect(
    _on_user_m2m_change,
    sender=_user_model.user_permissions.through,
    dispatch_uid="resync-jwt-user-perms",
)
post_delete.connect(_on_role_delete, sender=Group, dispatch_uid="resync-jwt-group-del")
m2m_changed.connect(
    _on_role_permissions_change,
    sender=Group.permissions.through,
    dispatch_uid="resync-jwt-group-perms",
)
