"""Security API routes."""

from apps.security.api_keys.urls import urlpatterns as api_key_urls

urlpatterns: list = [*api_key_urls]
