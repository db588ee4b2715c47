"""CORS origin routes (included by apps/security/api/urls.py)."""

from django.urls import path

from apps.security.cors import api

urlpatterns = [
    path("config/cors-origins/", api.CorsOriginListView.as_view(), name="cors-origin-list"),
    path(
        "config/cors-origins/<int:pk>/",
        api.CorsOriginDetailView.as_view(),
        name="cors-origin-detail",
    ),
]
