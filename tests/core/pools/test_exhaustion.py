"""Pool exhaustion raised outside a view (e.g. in a middleware) still answers 503."""

from __future__ import annotations

import django.db
from django.test import RequestFactory
from psycopg_pool import PoolTimeout

from apps.core.api.errors import handler500
from apps.core.pools.exhaustion import pool_exhaustion_error


def _wrapped_timeout() -> django.db.OperationalError:
    # What Django's wrap_database_errors makes of psycopg_pool's PoolTimeout.
    error = django.db.OperationalError("couldn't get a connection after 1.00 sec")
    error.__cause__ = PoolTimeout("couldn't get a connection after 1.00 sec")
    return error


def test_a_wrapped_pool_timeout_is_recognised():
    assert pool_exhaustion_error(_wrapped_timeout()).status_code == 503
    assert pool_exhaustion_error(django.db.OperationalError("other")) is None


def test_handler500_turns_an_exhaustion_into_a_503():
    request = RequestFactory().get("/admin/")
    try:
        raise _wrapped_timeout()
    except django.db.OperationalError:
        response = handler500(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
