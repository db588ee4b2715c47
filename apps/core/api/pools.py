"""Pool configuration (administrators) and live pool figures (monitoring)."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.base import BaseAPIView
from apps.core.api.inputs import StrictIntegerField, StrictSerializer, integer_range
from apps.core.models import ConnectionPoolConfig
from apps.core.models.pools import EDITABLE_FIELDS, OUT_OF_RANGE, field_range
from apps.core.pools.defaults import POOL_NAMES
from apps.core.selectors.pools import pool_config_get, pool_config_list, pool_stats
from apps.core.services.pools import pool_config_update
from apps.security.permissions import ADMINISTER, VIEW_MONITORING


class PoolConfigSerializer(serializers.ModelSerializer):
    """A pool's saved settings."""

    class Meta:
        model = ConnectionPoolConfig
        fields = ["name", *EDITABLE_FIELDS, "updated_at"]


def _setting(field: str) -> StrictIntegerField:
    low, high = field_range(field)
    return StrictIntegerField(**integer_range(low, high, OUT_OF_RANGE.format(low=low, high=high)))


class PoolConfigInputSerializer(StrictSerializer):
    """New settings: types and each one's range (from the model's field validators, so the
    schema shows them) here; the rules between settings in the model's clean()."""

    # Read-only: a body read with GET may be sent back as is.
    name = serializers.CharField(read_only=True)
    min_size = _setting("min_size")
    max_size = _setting("max_size")
    idle_timeout = _setting("idle_timeout")
    connection_timeout = _setting("connection_timeout")
    health_check_interval = _setting("health_check_interval")
    max_lifetime = _setting("max_lifetime")
    max_waiting = _setting("max_waiting")
    updated_at = serializers.DateTimeField(read_only=True)


class PoolConfigListView(BaseAPIView):
    """Every pool's settings."""

    required_permission = ADMINISTER

    @extend_schema(responses=PoolConfigSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(PoolConfigSerializer(pool_config_list(), many=True).data)


POOL_NAME = OpenApiParameter("name", str, OpenApiParameter.PATH, enum=POOL_NAMES)


@extend_schema_view(
    get=extend_schema(parameters=[POOL_NAME]),
    put=extend_schema(parameters=[POOL_NAME]),
    patch=extend_schema(parameters=[POOL_NAME]),
)
class PoolConfigDetailView(BaseAPIView):
    """One pool's settings: PUT replaces all of them, PATCH some; applied live."""

    required_permission = ADMINISTER

    @extend_schema(responses=PoolConfigSerializer)
    def get(self, request: Request, name: str) -> Response:
        return Response(PoolConfigSerializer(pool_config_get(name=name)).data)

    @extend_schema(request=PoolConfigInputSerializer, responses=PoolConfigSerializer)
    def put(self, request: Request, name: str) -> Response:
        return self._update(request, name, partial=False)

    @extend_schema(request=PoolConfigInputSerializer, responses=PoolConfigSerializer)
    def patch(self, request: Request, name: str) -> Response:
        return self._update(request, name, partial=True)

    def _update(self, request: Request, name: str, *, partial: bool) -> Response:
        pool_config_get(name=name)  # 404 for an unknown pool before validating the body
        incoming = PoolConfigInputSerializer(data=request.data, partial=partial)
        incoming.is_valid(raise_exception=True)
        config = pool_config_update(
            name=name, values=dict(incoming.validated_data), actor=request.user, source="api"
        )
        return Response(PoolConfigSerializer(config).data)


class PoolStatsView(BaseAPIView):
    """This process's pools: the settings in use and live figures."""

    required_permission = VIEW_MONITORING

    @extend_schema(
        responses=inline_serializer(
            "PoolStats",
            {
                "pid": serializers.IntegerField(),
                # None until this process has applied a saved pool configuration.
                "config_version": serializers.IntegerField(allow_null=True),
                "pools": serializers.DictField(child=serializers.DictField()),
            },
        )
    )
    def get(self, request: Request) -> Response:
        return Response(pool_stats())
