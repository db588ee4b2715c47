"""Pool configuration (administrators) and live pool figures (monitoring)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.base import BaseAPIView
from apps.core.api.inputs import StrictIntegerField, StrictSerializer
from apps.core.models import ConnectionPoolConfig
from apps.core.models.pools import EDITABLE_FIELDS
from apps.core.selectors.pools import pool_config_get, pool_config_list, pool_stats
from apps.core.services.pools import pool_config_update
from apps.security.permissions import ADMINISTER, VIEW_MONITORING


class PoolConfigSerializer(serializers.ModelSerializer):
    """A pool's saved settings."""

    class Meta:
        model = ConnectionPoolConfig
        fields = ["name", *EDITABLE_FIELDS, "updated_at"]


class PoolConfigInputSerializer(StrictSerializer):
    """New settings; types here, ranges and cross-field rules in the model (full_clean)."""

    # Read-only: a body read with GET may be sent back as is.
    name = serializers.CharField(read_only=True)
    min_size = StrictIntegerField()
    max_size = StrictIntegerField()
    idle_timeout = StrictIntegerField()
    connection_timeout = StrictIntegerField()
    health_check_interval = StrictIntegerField()
    max_lifetime = StrictIntegerField()
    max_waiting = StrictIntegerField()
    updated_at = serializers.DateTimeField(read_only=True)


class PoolConfigListView(BaseAPIView):
    """Every pool's settings."""

    required_permission = ADMINISTER

    @extend_schema(responses=PoolConfigSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(PoolConfigSerializer(pool_config_list(), many=True).data)


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
                "config_version": serializers.IntegerField(),
                "pools": serializers.DictField(child=serializers.DictField()),
            },
        )
    )
    def get(self, request: Request) -> Response:
        return Response(pool_stats())
