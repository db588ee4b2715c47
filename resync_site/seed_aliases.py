"""The seed's API paths, kept answering: `/api/health`, `/api/cache/stats`, `/api/jobs/status`.

The plan this project implements promised that "all optimizations maintain backward
compatibility", and clients written against it call these paths (no version, no trailing
slash). Each is the v1 view itself, so it answers exactly as the v1 path does: the same
permission, throttles, cache and problems. They are left out of the OpenAPI schema
(`exclude_seed_aliases`): new clients should use the v1 paths documented there.
"""

from __future__ import annotations

from django.urls import path

from apps.cache.api.views import CacheStatsView
from apps.core.api.views import JobStatusSummaryView
from apps.monitoring.api.views import HealthView

SEED_PREFIXES = ("/api/health", "/api/cache/stats", "/api/jobs/status")

urlpatterns = [
    path("api/health", HealthView.as_view(), name="seed-health"),
    path("api/cache/stats", CacheStatsView.as_view(), name="seed-cache-stats"),
    path("api/jobs/status", JobStatusSummaryView.as_view(), name="seed-jobs-status"),
]


def exclude_seed_aliases(endpoints, **kwargs):
    """drf-spectacular preprocessing hook: document the v1 paths only."""
    return [endpoint for endpoint in endpoints if endpoint[0] not in SEED_PREFIXES]
