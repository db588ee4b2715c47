"""Serializers of the cache API. Fields are listed explicitly."""

from __future__ import annotations

from rest_framework import serializers

from apps.cache.models import FIELDS, CacheConfig
from apps.core.api.inputs import StrictModelSerializer


class CacheConfigSerializer(StrictModelSerializer):
    """The five live settings; ranges are checked by the model (one place), not here."""

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
        extra_kwargs = {field: {"required": True} for field in FIELDS}


class CacheClearResultSerializer(serializers.Serializer):
    cleared_entries_in_this_process = serializers.IntegerField()
