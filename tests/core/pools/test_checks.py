from __future__ import annotations

import pytest
from django.db import connection

from apps.core import checks
from apps.core.checks import pool_budget_check, pool_settings_check

POOL = {"min_size": 2, "max_size": 10, "max_idle": 300.0, "max_lifetime": 1800.0}


@pytest.fixture
def pooled(monkeypatch):
    database = {"CONN_MAX_AGE": 0, "OPTIONS": {"pool": dict(POOL)}}
    monkeypatch.setattr(checks, "_database_settings", lambda: database)
    return database


def ids(problems) -> list[str]:
    return [problem.id for problem in problems]


def test_sane_settings_pass(pooled, monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    assert pool_settings_check() == []


def test_pool_budget_above_max_connections_warns(pooled, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "12")
    monkeypatch.setenv("DB_MAX_CONNECTIONS", "100")
    [warning] = pool_settings_check()
    assert warning.id == "core.W001"
    assert "120 connections" in warning.msg
    assert warning.hint


def test_min_above_max_is_an_error(pooled):
    pooled["OPTIONS"]["pool"]["min_size"] = 11
    assert ids(pool_settings_check()) == ["core.E002"]


def test_conn_max_age_with_a_pool_is_an_error(pooled):
    pooled["CONN_MAX_AGE"] = 60
    assert ids(pool_settings_check()) == ["core.E001"]


def test_lifetime_not_above_idle_warns(pooled):
    pooled["OPTIONS"]["pool"]["max_lifetime"] = 300.0
    assert ids(pool_settings_check()) == ["core.W002"]


def test_no_pool_no_checks(monkeypatch):
    monkeypatch.setattr(checks, "_database_settings", lambda: {"OPTIONS": {}})
    assert pool_settings_check() == []


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="asks PostgreSQL")
def test_the_server_max_connections_is_asked(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "50")  # 20 x 50 > any default max_connections
    [warning] = pool_budget_check(databases=["default"])
    assert warning.id == "core.W003"
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    assert pool_budget_check(databases=["default"]) == []


def test_more_server_threads_than_pool_connections_warns(pooled, monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setenv("RESYNC_SERVER_THREADS", "16")

    [warning] = pool_settings_check()

    assert warning.id == "core.W004"
    assert "16 threads" in warning.msg
    assert "10 connections" in warning.msg
