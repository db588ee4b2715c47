"""Root URLs: each app owns its api/urls.py; this file only includes them, and the console."""

from importlib import import_module

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, reverse_lazy
from django.utils.functional import lazy
from django.views.generic import RedirectView

from apps.core.api.schema import DocsView, SchemaView

# The admin's "View site" goes to the operations console's overview.
admin.site.site_url = reverse_lazy("home")
admin.site.site_header = admin.site.site_title = "Resync administration"

# Each app's API routes, tried in this order under one `api/v1/` resolver: with one include
# per app, a path of the second app was first refused by the whole first one (an exception
# carrying the list of patterns tried, a tenth of a health poll's cost in issue 12's profile).
API_V1_URLS = [
    pattern
    for module in (
        "apps.core.api.urls",
        "apps.monitoring.api.urls",
        "apps.security.api.urls",
        "apps.cache.api.urls",
    )
    for pattern in import_module(module).urlpatterns
]
# Routes without parameters (the health probes, jobs/status/...) are resolved once per
# process, however far down they are (resync_site/handler.py).

# Django tries these in order: the API first, the path of nearly every request, so that a
# plan read is not first tested against each console page (a fifth of its URL resolution).
urlpatterns = [
    # Browsers ask every site for /favicon.ico; a 404 there is an error in each page's console.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("core/favicon.svg"))),
    path("admin/", admin.site.urls),
    path("api/v1/", include(API_V1_URLS)),
    # The browsable API's login form (a login path: guarded, locked out and audited).
    path("api-auth/", include("rest_framework.urls")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="api-docs"),
    path("", include("apps.monitoring.api.scrape_urls")),
    path("", include("resync_site.seed_aliases")),
    # The operations console: the root and its pages (none overlaps a path above).
    path("", include("apps.core.console.urls")),
]

handler404 = "apps.core.api.errors.handler404"
handler500 = "apps.core.api.errors.handler500"
