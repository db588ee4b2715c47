"""`Authorization: Api-Key <key>`: DRF authentication as the key's owner.

`request.user` is the owner and `request.auth` the ApiKey (its `.scopes` say what the key
may do); permission checks then need both the scope and the owner's own permission, so a
key never grants more than its owner's role.

Verifying a key costs a slow hash (see models.py). A key verified once is remembered in this
process (by a SHA-256 of the key, next to the stored hash it matched) for a few minutes, so
an integration pays that cost once per process and key, not per request. The key's row is
still read on every request, so revocation, expiry and the owner's deactivation apply at once.
A slow hash that is due counts against the client's login rate and is refused beyond it
(429), so guessing keys cannot eat the CPU either.
"""

from __future__ import annotations

import hashlib
import math

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework_api_key.permissions import KeyParser

from apps.cache.engine import ShardedCache
from apps.security.api_keys.models import ApiKey
from apps.security.api_keys.services import api_key_touch
from apps.security.throttling import login_throttle_wait

INVALID_KEY = "Invalid API key."
REVOKED_KEY = "This API key has been revoked."
EXPIRED_KEY = "This API key has expired."
INACTIVE_OWNER = "The owner of this API key is inactive."
VERIFIED_SECONDS = 300
KEY_MAX_LENGTH = 100

_verified = ShardedCache(
    ttl_seconds=VERIFIED_SECONDS,
    max_entries=10_000,
    max_memory_bytes=4 * 2**20,
    num_shards=4,
    cleanup_interval=60,
)


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates `Authorization: Api-Key <prefix>.<secret>` as the key's owner."""

    keyword = KeyParser.keyword
    key_parser = KeyParser()

    def authenticate(self, request):
        key = self.key_parser.get(request)
        if key is None:
            return None
        api_key = api_key_verify(key=key.strip(), request=request)
        return api_key.owner, api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


def api_key_verify(*, key: str, request) -> ApiKey:
    """The usable key matching `key`, or AuthenticationFailed (Throttled when guessing)."""
    prefix, dot, secret = key.partition(".")
    if not (dot and prefix and secret) or len(key) > KEY_MAX_LENGTH:
        raise exceptions.AuthenticationFailed(INVALID_KEY)
    api_key = ApiKey.objects.select_related("owner").filter(prefix=prefix).first()
    if api_key is None or not _matches(api_key, key, request):
        raise exceptions.AuthenticationFailed(INVALID_KEY)
    if api_key.revoked:
        raise exceptions.AuthenticationFailed(REVOKED_KEY)
    if api_key.has_expired:
        raise exceptions.AuthenticationFailed(EXPIRED_KEY)
    if not api_key.owner.is_active:
        raise exceptions.AuthenticationFailed(INACTIVE_OWNER)
    api_key_touch(api_key=api_key)
    return api_key


def _matches(api_key: ApiKey, key: str, request) -> bool:
    fingerprint = hashlib.sha256(key.encode()).hexdigest()
    if _verified.get(fingerprint) == api_key.hashed_key:
        return True
    wait = login_throttle_wait(request)
    if wait is not None:
        raise exceptions.Throttled(wait=math.ceil(wait))
    if not api_key.is_valid(key):  # the library's check: our constant-time slow hash
        return False
    _verified.set(fingerprint, api_key.hashed_key)
    return True


def forget_verified_keys() -> None:
    """Drop this process's memory of verified keys (tests)."""
    _verified.clear()
