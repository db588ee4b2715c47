"""API key routes (included by apps/security/api/urls.py)."""

from django.urls import path

from apps.security.api_keys import api

urlpatterns = [
    path("api-keys/", api.ApiKeyListView.as_view(), name="api-key-list"),
    path("api-keys/<str:prefix>/", api.ApiKeyDetailView.as_view(), name="api-key-detail"),
    path("api-keys/<str:prefix>/rotate/", api.ApiKeyRotateView.as_view(), name="api-key-rotate"),
    path("api-keys/<str:prefix>/revoke/", api.ApiKeyRevokeView.as_view(), name="api-key-revoke"),
]
