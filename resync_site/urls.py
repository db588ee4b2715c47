"""Root URLs: each app owns its api/urls.py; this file only includes them."""

from django.contrib import admin
from django.urls import include, path

from apps.core.api.schema import DocsView, SchemaView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("apps.core.api.urls")),
    path("api/v1/", include("apps.monitoring.api.urls")),
    path("api/v1/", include("apps.security.api.urls")),
    path("api/v1/", include("apps.cache.api.urls")),
    # The browsable API's login form (a login path: guarded, locked out and audited).
    path("api-auth/", include("rest_framework.urls")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="api-docs"),
]

handler404 = "apps.core.api.errors.handler404"
handler500 = "apps.core.api.errors.handler500"
