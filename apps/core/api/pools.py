"""Pool configuration (administrators) and live pool figures (monitoring)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

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


class PoolConfigInputSerializer(serializers.Serializer):
    """New settings; types here, ranges and cross-field rules in pools.validation."""

    min_size = serializers.IntegerField()
    max_size = serializers.IntegerField()
    idle_timeout = serializers.IntegerField()
    connection_timeout = serializers.IntegerField()
    health_check_interval = serializers.IntegerField()
    max_lifetime = serializers.IntegerField()
    max_waiting = serializers.IntegerField()


class PoolConfigListView(APIView):
    """Every pool's settings."""

    required_permission = ADMINISTER

    @extend_schema(responses=PoolConfigSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(PoolConfigSerializer(pool_config_list(), many=True).data)


class PoolConfigDetailView(APIView):
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
        data = request.data if isinstance(request.data, dict) else {}
        unknown = sorted(set(data) - set(EDITABLE_FIELDS) - {"name", "updated_at"})
        if unknown:
            raise serializers.ValidationError({field: ["Unknown field."] for field in unknown})
        incoming = PoolConfigInputSerializer(data=data, partial=partial)
        incoming.is_valid(raise_exception=True)
        config = pool_config_update(
            name=name, values=dict(incoming.validated_data), actor=request.user, source="api"
        )
        return Response(PoolConfigSerializer(config).data)


class PoolStatsView(APIView):
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
