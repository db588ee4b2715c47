"""API key list filters."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from apps.core.api.filtering import StrictBooleanFilter, StrictFilterSet
from apps.security.api_keys.models import ApiKey


class ApiKeyFilter(StrictFilterSet):
    owner = django_filters.CharFilter(field_name="owner__username")
    revoked = StrictBooleanFilter()
    q = django_filters.CharFilter(method="search", label="Name or prefix contains")

    class Meta:
        model = ApiKey
        fields = ["owner", "revoked"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(prefix__icontains=value))
