"""Security API routes: sign in, refresh, verify, sign out; API keys; CORS origins."""

from django.urls import path

from apps.security.api import views
from apps.security.api_keys.urls import urlpatterns as api_key_urls
from apps.security.cors.urls import urlpatterns as cors_urls

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/token/verify/", views.TokenVerifyView.as_view(), name="token-verify"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    *api_key_urls,
    *cors_urls,
]
