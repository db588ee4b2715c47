"""A database that cannot serve answers 503 with Retry-After, wherever the error is raised."""

from __future__ import annotations

import django.db
import psycopg
import pytest
from django.test import RequestFactory
from psycopg import errors
from psycopg_pool import PoolTimeout

from apps.core.api.errors import handler500
from apps.core.pools.outage import DatabaseUnavailable
from apps.core.pools.unavailable import (
    DATABASE_DOWN,
    POOL_EXHAUSTED,
    database_unavailable_error,
)


def _wrapped(cause: Exception) -> django.db.OperationalError:
    # What Django's wrap_database_errors makes of a psycopg error.
    error = django.db.OperationalError(*cause.args)
    error.__cause__ = cause
    return error


def _wrapped_timeout() -> django.db.OperationalError:
    return _wrapped(PoolTimeout("couldn't get a connection after 1.00 sec"))


def test_a_wrapped_pool_timeout_is_a_busy_database():
    error = database_unavailable_error(_wrapped_timeout())
    assert (error.status_code, error.detail) == (503, POOL_EXHAUSTED)
    assert database_unavailable_error(django.db.OperationalError("other")) is None


@pytest.mark.parametrize(
    "cause",
    [
        DatabaseUnavailable("the database is unavailable"),  # the breaker is open
        psycopg.OperationalError("consuming input failed: server closed the connection"),
        errors.AdminShutdown("terminating connection due to administrator command"),
        errors.CannotConnectNow("the database system is starting up"),
    ],
    ids=["breaker-open", "connection-lost", "admin-shutdown", "starting-up"],
)
def test_a_lost_or_refused_connection_is_a_database_down(cause):
    error = database_unavailable_error(_wrapped(cause))
    assert (error.status_code, error.detail, error.retry_after) == (503, DATABASE_DOWN, 1)


@pytest.mark.parametrize(
    "cause",
    [errors.QueryCanceled("canceling statement due to statement timeout"), errors.DiskFull("")],
    ids=["statement-timeout", "disk-full"],
)
def test_a_failed_statement_is_not_an_outage(cause):
    assert database_unavailable_error(_wrapped(cause)) is None


@pytest.mark.parametrize(
    ("error", "detail"),
    [(_wrapped_timeout(), POOL_EXHAUSTED), (_wrapped(DatabaseUnavailable("x")), DATABASE_DOWN)],
    ids=["exhausted", "down"],
)
def test_handler500_turns_it_into_a_503_problem(error, detail):
    request = RequestFactory().get("/admin/")
    try:
        raise error
    except django.db.OperationalError:
        response = handler500(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response["Content-Type"] == "application/problem+json"
    assert detail in response.content.decode()
