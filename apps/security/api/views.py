"""Security API views: the JWT endpoints (simplejwt's views with our serializers)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt import views as jwt_views

from apps.core.api.base import StrictQueryParamsMixin
from apps.security.api import serializers
from apps.security.permissions import PUBLIC, RequiredPermission


class _PublicTokenView(StrictQueryParamsMixin):
    """Token endpoints take credentials in the body: no other authentication, anyone may call."""

    authentication_classes = ()
    permission_classes = [RequiredPermission]
    required_permission = PUBLIC


class TokenObtainView(_PublicTokenView, jwt_views.TokenObtainPairView):
    """Sign in with username and password: an access and a refresh token."""

    serializer_class = serializers.TokenObtainPairSerializer


class TokenRefreshView(_PublicTokenView, jwt_views.TokenRefreshView):
    """A new access and refresh token for a refresh token, which stops working (rotation)."""

    serializer_class = serializers.TokenRefreshSerializer


class TokenVerifyView(_PublicTokenView, jwt_views.TokenVerifyView):
    """200 if the token would be accepted now, 401 if not."""

    serializer_class = serializers.TokenVerifySerializer


class LogoutView(_PublicTokenView, jwt_views.TokenBlacklistView):
    """Sign out: the refresh token and every token rotated from the same sign-in stop working."""

    serializer_class = serializers.LogoutSerializer

    @extend_schema(responses={204: None})
    def post(self, request: Request, *args, **kwargs) -> Response:
        super().post(request, *args, **kwargs)
        return Response(status=status.HTTP_204_NO_CONTENT)
