"""What a process that never serves the API loads at start-up (the sync loop, commands).

Every module imported at `django.setup()` stays in such a process for its life (the sync
loop counts against issue 12's memory bound), so what only serving or describing the API
needs is imported with the URLconf, not from an app's ready().
"""

from __future__ import annotations

from tests.processes import run_python

SERVING_ONLY = (
    "rest_framework.serializers",  # ~8 MB with what it pulls in (drf-spectacular's contrib)
    "drf_spectacular.contrib.rest_framework_simplejwt",
    "apps.security.schema",
)
PROBE = (
    "import sys, django; django.setup();"
    "from apps.core.management.commands import sync_plan;"
    f"print(sorted(set({SERVING_ONLY!r}) & set(sys.modules)))"
)


def test_the_sync_loop_does_not_load_what_only_the_api_needs():
    result = run_python(PROBE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_sync_worker_runs_no_check_that_loads_the_serving_stack():
    """The system checks would import the URLconf and every template tag library."""
    probe = (
        "import atexit, sys;"
        "atexit.register(lambda: print(sorted({'resync_site.urls',"
        " 'rest_framework.templatetags.rest_framework'} & set(sys.modules))));"
        "from django.core.management import execute_from_command_line;"
        # Stops in handle(), after the checks would have run, before any database work.
        "execute_from_command_line(['manage.py', 'sync_plan', '--interval', '0'])"
    )
    result = run_python(probe)
    assert "--interval must be positive" in result.stderr
    assert result.stdout.strip() == "[]"


def test_the_urlconf_registers_the_openapi_extensions_of_our_authentication():
    from django.urls import get_resolver
    from drf_spectacular.extensions import OpenApiAuthenticationExtension

    get_resolver().url_patterns  # noqa: B018  (what the server and `spectacular` load)
    # A dotted path until a schema was generated, the class it names afterwards.
    targets = {
        target if isinstance(target, str) else f"{target.__module__}.{target.__qualname__}"
        for target in (ext.target_class for ext in OpenApiAuthenticationExtension._registry)
        if target is not None  # drf-spectacular's own, for packages not installed
    }
    assert {
        "apps.security.authentication.CachedUserJWTAuthentication",
        "apps.security.api_keys.authentication.ApiKeyAuthentication",
    } <= targets
