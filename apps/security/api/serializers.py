"""Security API serializers: simplejwt's token serializers, wired to our token lifecycle."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework_simplejwt import serializers as jwt_serializers

from apps.security import services
from apps.security.tokens import FAMILY_CLAIM, RefreshToken


class TokenObtainPairSerializer(jwt_serializers.TokenObtainPairSerializer):
    """Sign in: the token pair of a new token family."""

    token_class = RefreshToken

    @classmethod
    def get_token(cls, user):
        token = super().get_token(user)
        token[FAMILY_CLAIM] = services.token_family_start(user=user).pk
        return token


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """Rotate: a new access and refresh token; the presented one is blacklisted."""

    token_class = RefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        return services.token_refresh(raw=attrs["refresh"])


class TokenVerifySerializer(jwt_serializers.TokenVerifySerializer):
    """Valid means usable: signature, expiry, blacklist, the user and the token family."""

    def validate(self, attrs: dict[str, Any]) -> dict[Any, Any]:
        services.token_verify(raw=attrs["token"])
        return {}


class LogoutSerializer(serializers.Serializer):
    """Sign out with the refresh token: it and its whole family stop working."""

    refresh = serializers.CharField(write_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[Any, Any]:
        services.token_logout(raw=attrs["refresh"])
        return {}
