"""Cache API views: the live configuration, statistics and clearing."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.cache import selectors, services
from apps.cache.api.serializers import CacheClearResultSerializer, CacheConfigSerializer
from apps.core.api.base import BaseAPIView
from apps.security.permissions import ADMINISTER, VIEW_MONITORING


class CacheConfigView(BaseAPIView):
    """Read and change the cache settings (validated, audited, applied in every process)."""

    required_permission = ADMINISTER

    @extend_schema(responses=CacheConfigSerializer)
    def get(self, request: Request) -> Response:
        return Response(CacheConfigSerializer(selectors.cache_config_get()).data)

    @extend_schema(request=CacheConfigSerializer, responses=CacheConfigSerializer)
    def put(self, request: Request) -> Response:
        return self._update(request, partial=False)

    @extend_schema(request=CacheConfigSerializer, responses=CacheConfigSerializer)
    def patch(self, request: Request) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        serializer = CacheConfigSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        config = services.cache_config_update(
            actor=request.user, source="api", values=dict(serializer.validated_data)
        )
        return Response(CacheConfigSerializer(config).data)


class CacheStatsView(BaseAPIView):
    """Per tier and shard: entries, bytes, bounds, hits, misses, evictions, L2 errors."""

    required_permission = VIEW_MONITORING

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response(selectors.cache_stats())


class CacheClearView(BaseAPIView):
    """Empty the cache: this process's memory tier and the shared Redis tier (audited)."""

    required_permission = ADMINISTER

    @extend_schema(request=None, responses=CacheClearResultSerializer)
    def post(self, request: Request) -> Response:
        entries = services.cache_clear(actor=request.user, source="api")
        return Response({"cleared_entries_in_this_process": entries})
