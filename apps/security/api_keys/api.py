"""API key management for administrators: list, create, show, rotate, revoke.

The key text appears in exactly two responses, the creation and the rotation that made it.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.base import BaseAPIView, StrictQueryParamsMixin
from apps.security.api_keys import selectors, services
from apps.security.api_keys.filters import ApiKeyFilter
from apps.security.api_keys.models import ApiKey
from apps.security.permissions import ADMINISTER
from apps.security.scopes import SCOPES


class ApiKeySerializer(serializers.ModelSerializer):
    """A key as listed: never its secret or hash."""

    owner = serializers.CharField(source="owner.get_username", read_only=True)
    expires_at = serializers.DateTimeField(source="expiry_date", read_only=True)
    state = serializers.SerializerMethodField()
    rotated_from = serializers.CharField(source="rotated_from.prefix", default=None, read_only=True)
    replaced_by = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = [
            "prefix",
            "name",
            "owner",
            "scopes",
            "state",
            "created",
            "expires_at",
            "last_used_at",
            "revoked",
            "revoked_at",
            "rotated_from",
            "replaced_by",
        ]

    def get_state(self, api_key: ApiKey) -> str:
        return selectors.api_key_state(api_key)

    def get_replaced_by(self, api_key: ApiKey) -> str | None:
        successor = getattr(api_key, "replaced_by", None)
        return successor.prefix if successor else None


class ApiKeyIssuedSerializer(ApiKeySerializer):
    """A key just made, with its text: shown this once, stored nowhere."""

    key = serializers.CharField(read_only=True)

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True)
    )
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=SCOPES), allow_empty=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ApiKeyRotateSerializer(serializers.Serializer):
    old_valid_until = serializers.DateTimeField(
        required=False, help_text="Until when the old key keeps working (default: in one hour)."
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="The new key's expiry (default: the old key's)."
    )


def _issued(api_key: ApiKey, key: str) -> Response:
    api_key.key = key
    return Response(ApiKeyIssuedSerializer(api_key).data, status=status.HTTP_201_CREATED)


class ApiKeyListView(StrictQueryParamsMixin, generics.ListAPIView):
    """Every API key (rotated keys in their grace time too); POST issues a new one."""

    required_permission = ADMINISTER
    queryset = selectors.api_key_list()
    serializer_class = ApiKeySerializer
    filterset_class = ApiKeyFilter
    ordering_fields = ["created", "name", "last_used_at", "expiry_date"]
    ordering = ["-created"]

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: ApiKeyIssuedSerializer})
    def post(self, request: Request) -> Response:
        incoming = ApiKeyCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        api_key, key = services.api_key_create(
            owner=data["owner"],
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data.get("expires_at"),
            actor=request.user,
            source="api",
        )
        return _issued(api_key, key)


class ApiKeyDetailView(BaseAPIView):
    """One key, by prefix."""

    required_permission = ADMINISTER

    @extend_schema(responses=ApiKeySerializer)
    def get(self, request: Request, prefix: str) -> Response:
        return Response(ApiKeySerializer(selectors.api_key_get(prefix=prefix)).data)


class ApiKeyRotateView(BaseAPIView):
    """Issue the key's successor; the old key stays valid until `old_valid_until`."""

    required_permission = ADMINISTER

    @extend_schema(request=ApiKeyRotateSerializer, responses={201: ApiKeyIssuedSerializer})
    def post(self, request: Request, prefix: str) -> Response:
        old = selectors.api_key_get(prefix=prefix)
        incoming = ApiKeyRotateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        options = dict(incoming.validated_data)
        new, key = services.api_key_rotate(api_key=old, actor=request.user, source="api", **options)
        return _issued(selectors.api_key_get(prefix=new.prefix), key)


class ApiKeyRevokeView(BaseAPIView):
    """Revoke the key at once; it cannot be undone."""

    required_permission = ADMINISTER

    @extend_schema(request=None, responses=ApiKeySerializer)
    def post(self, request: Request, prefix: str) -> Response:
        api_key = selectors.api_key_get(prefix=prefix)
        services.api_key_revoke(api_key=api_key, actor=request.user, source="api")
        return Response(ApiKeySerializer(selectors.api_key_get(prefix=prefix)).data)
