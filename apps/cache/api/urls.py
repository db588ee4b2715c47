"""Cache API routes."""

from django.urls import path

from apps.cache.api import views

urlpatterns = [
    path("config/cache/", views.CacheConfigView.as_view(), name="cache-config"),
    path("cache/stats/", views.CacheStatsView.as_view(), name="cache-stats"),
    path("cache/clear/", views.CacheClearView.as_view(), name="cache-clear"),
]
