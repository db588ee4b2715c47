"""Serializers of the cache API. Fields are listed explicitly."""

from __future__ import annotations

from rest_framework import serializers

from apps.cache.models import OUT_OF_RANGE, RANGES, CacheConfig
from apps.core.api.inputs import StrictModelSerializer, integer_range


def _setting(low: int, high: int) -> dict:
    return {"required": True, **integer_range(low, high, OUT_OF_RANGE.format(low=low, high=high))}


class CacheConfigSerializer(StrictModelSerializer):
    """The five live settings. Each one's range comes from the model's RANGES (so the schema
    shows it); the rules between settings and the RAM ceiling stay in the model's clean()."""

    class Meta:
        model = CacheConfig
        fields = [
            "ttl_seconds",
            "cleanup_interval",
            "max_memory_mb",
            "max_entries",
            "num_shards",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        # PUT replaces every setting; PATCH (partial) may send some.
        extra_kwargs = {field: _setting(low, high) for field, (low, high) in RANGES.items()}


class CacheClearResultSerializer(serializers.Serializer):
    cleared_entries_in_this_process = serializers.IntegerField()
