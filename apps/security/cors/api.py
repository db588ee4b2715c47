"""CORS origin management for administrators: list, add, show, change, delete."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.base import BaseAPIView
from apps.core.api.inputs import StrictModelSerializer
from apps.security.cors import selectors, services
from apps.security.cors.models import CorsOrigin
from apps.security.permissions import ADMINISTER

_FIELDS = ["id", "origin", "enabled", "note", "created_at", "updated_at"]


class CorsOriginSerializer(serializers.ModelSerializer):
    """An allowed origin as listed."""

    class Meta:
        model = CorsOrigin
        fields = _FIELDS


class CorsOriginInputSerializer(StrictModelSerializer):
    """A new origin or new values; the origin's form and uniqueness are checked by the model
    (after it is normalised), not here."""

    class Meta:
        model = CorsOrigin
        fields = _FIELDS  # read-only ones included: a body read with GET may be sent back
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"origin": {"validators": []}}


def _saved(write) -> CorsOrigin:
    try:
        return write()
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict) from None


class CorsOriginListView(BaseAPIView):
    """Every allowed origin (enabled or not); POST adds one."""

    required_permission = ADMINISTER

    @extend_schema(responses=CorsOriginSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(CorsOriginSerializer(selectors.cors_origin_list(), many=True).data)

    @extend_schema(request=CorsOriginInputSerializer, responses={201: CorsOriginSerializer})
    def post(self, request: Request) -> Response:
        incoming = CorsOriginInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        values = dict(incoming.validated_data)
        row = _saved(
            lambda: services.cors_origin_create(values=values, actor=request.user, source="api")
        )
        return Response(CorsOriginSerializer(row).data, status=status.HTTP_201_CREATED)


class CorsOriginDetailView(BaseAPIView):
    """One origin: PATCH changes some of its fields, DELETE removes it; applied live."""

    required_permission = ADMINISTER

    @extend_schema(responses=CorsOriginSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(CorsOriginSerializer(selectors.cors_origin_get(pk=pk)).data)

    @extend_schema(request=CorsOriginInputSerializer, responses=CorsOriginSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        row = selectors.cors_origin_get(pk=pk)  # 404 before validating the body
        incoming = CorsOriginInputSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        values = dict(incoming.validated_data)
        row = _saved(
            lambda: services.cors_origin_update(
                cors_origin=row, values=values, actor=request.user, source="api"
            )
        )
        return Response(CorsOriginSerializer(row).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        row = selectors.cors_origin_get(pk=pk)
        services.cors_origin_delete(cors_origin=row, actor=request.user, source="api")
        return Response(status=status.HTTP_204_NO_CONTENT)
