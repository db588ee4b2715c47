"""simplejwt's tokens, tightened: `iat` required, reuse of a rotated refresh token detected.

What simplejwt already does (settings.SIMPLE_JWT): HS256 only (PyJWT is given exactly that
algorithm, so `alg: none` and RS/HS confusion are refused), signature, `exp` with a bounded
LEEWAY, `jti`, the token type (a refresh token is no access token), the blacklist of
rotated refresh tokens, and the password-hash fingerprint claim (CHECK_REVOKE_TOKEN).
Added here: `iat` must be present (PyJWT then refuses one in the future), every token of a
login carries its family id, and the user behind a token is checked the same way on every
path (access, refresh, verify, logout).
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework_simplejwt import tokens
from rest_framework_simplejwt.exceptions import AuthenticationFailed, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

FAMILY_CLAIM = "family"

NO_IAT = "Token has no 'iat' claim"
REUSED = "Token is blacklisted"
USER_NOT_FOUND = "User not found"
USER_INACTIVE = "User is inactive"
PASSWORD_CHANGED = "The user's password has been changed."  # noqa: S105 (a message)


class RefreshTokenReused(TokenError):
    """A genuine refresh token that was already rotated or logged out came back."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(REUSED)
        self.payload = payload


class _IssuedAtRequired:
    payload: dict[str, Any]

    def verify(self) -> None:
        super().verify()  # type: ignore[misc]
        if "iat" not in self.payload:
            raise TokenError(NO_IAT)


class AccessToken(_IssuedAtRequired, tokens.AccessToken):
    """The bearer token of API requests (AUTH_TOKEN_CLASSES)."""


class RefreshToken(_IssuedAtRequired, tokens.RefreshToken):
    """The long-lived token; rotated on every use, its family id carried along."""

    access_token_class = AccessToken

    def check_blacklist(self) -> None:
        try:
            super().check_blacklist()
        except TokenError:
            # The signature was checked before: this is our token, used a second time.
            raise RefreshTokenReused(self.payload) from None


class UntypedToken(_IssuedAtRequired, tokens.UntypedToken):
    """Any of our tokens (verify endpoint)."""


def user_load(user_id: Any):
    """The user a token names, read from the database; 401 if there is none."""
    user_model = get_user_model()
    try:
        return user_model.objects.get(**{api_settings.USER_ID_FIELD: user_id})
    except (user_model.DoesNotExist, ValueError, TypeError):
        raise AuthenticationFailed(USER_NOT_FOUND, code="user_not_found") from None


def user_check(user: Any, token: tokens.Token) -> None:
    """401 unless the user is active and the token was issued for their current password."""
    if not user.is_active:
        raise AuthenticationFailed(USER_INACTIVE, code="user_inactive")
    if token.get(api_settings.REVOKE_TOKEN_CLAIM) != _password_fingerprint(user.password):
        raise AuthenticationFailed(PASSWORD_CHANGED, code="password_changed")


@functools.lru_cache(maxsize=1024)
def _password_fingerprint(password_hash: str) -> str:
    # The stored hash's digest, which every access token carries: the same few users' hashes
    # again and again, hashed once each (issue 12's profile: a tenth of a JWT's checks).
    return get_md5_hash_password(password_hash)


def token_user(token: tokens.Token):
    """The (checked) user behind a token, read fresh from the database."""
    user = user_load(token.get(api_settings.USER_ID_CLAIM))
    user_check(user, token)
    return user
