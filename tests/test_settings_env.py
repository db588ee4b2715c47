"""Settings come from the environment through typed helpers that name the variable."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from resync_site import env

ROOT = Path(__file__).resolve().parent.parent


def test_env_int_names_the_variable_on_a_bad_value(monkeypatch):
    monkeypatch.setenv("DB_POOL_MAX_SIZE", "lots")
    with pytest.raises(ImproperlyConfigured, match="DB_POOL_MAX_SIZE"):
        env.env_int("DB_POOL_MAX_SIZE", 10)


def test_env_int_enforces_its_minimum(monkeypatch):
    monkeypatch.setenv("DB_POOL_MAX_SIZE", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env.env_int("DB_POOL_MAX_SIZE", 10, minimum=1)


def test_env_bool_accepts_the_usual_spellings_and_rejects_others(monkeypatch):
    monkeypatch.setenv("X_FLAG", "Yes")
    assert env.env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env.env_bool("X_FLAG", False)


def test_env_list_drops_blanks(monkeypatch):
    monkeypatch.setenv("X_LIST", "a, b,,c ")
    assert env.env_list("X_LIST") == ["a", "b", "c"]


PRINT_SETTINGS = (
    "import resync_site.settings as s; print(s.DEBUG, s.DATABASES['default']['ENGINE'])"
)


def _import_settings(extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RESYNC_"))}
    clean.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env={**clean, **extra_env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_its_secrets():
    result = _import_settings({"RESYNC_ENV": "production"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_names_each_missing_secret_in_turn():
    result = _import_settings({"RESYNC_ENV": "production", "DJANGO_SECRET_KEY": "x" * 50})
    assert "RESYNC_ENCRYPTION_KEYS" in result.stderr


def test_production_with_its_secrets_runs_with_debug_off(tmp_path):
    result = _import_settings(
        {
            "RESYNC_ENV": "production",
            "DJANGO_SECRET_KEY": "x" * 50,
            "RESYNC_ENCRYPTION_KEYS": "k",
            "DJANGO_ALLOWED_HOSTS": "resync.example.com",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "django.db.backends.sqlite3"]


def test_a_database_url_selects_postgresql_with_the_native_pool():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resync_site.settings as s; d = s.DATABASES['default']; "
            "print(d['ENGINE'], d['CONN_MAX_AGE'], sorted(d['OPTIONS']['pool']))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DATABASE_URL": "postgres://u@db.example:5432/resync"},
    )
    assert result.stdout.split()[:2] == ["apps.core.db.postgresql", "0"]
    assert "max_size" in result.stdout


PRINT_CONNECT_TIMEOUT = (
    "import resync_site.settings as s; print(s.DATABASES['default']['OPTIONS']['connect_timeout'])"
)


@pytest.mark.parametrize(
    ("extra_env", "expected"),
    [
        ({}, "3"),
        ({"DB_CONNECT_TIMEOUT": "7"}, "7"),
        ({"DB_CONNECT_TIMEOUT": "7", "DATABASE_URL_QUERY": "?connect_timeout=11"}, "11"),
    ],
)
def test_postgresql_connections_give_up_after_a_connect_timeout(extra_env, expected):
    query = extra_env.pop("DATABASE_URL_QUERY", "")
    result = subprocess.run(
        [sys.executable, "-c", PRINT_CONNECT_TIMEOUT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **extra_env, "DATABASE_URL": f"postgres://u@db.example/r{query}"},
    )
    assert result.stdout.strip() == expected


def test_a_bad_database_url_is_named():
    result = _import_settings({"DATABASE_URL": "nonsense://"})
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_retention_days_apply_to_every_kind_unless_overridden():
    result = subprocess.run(
        [sys.executable, "-c", "import resync_site.settings as s; print(s.RESYNC_RETENTION)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "RESYNC_RETENTION_DAYS": "7",
            "RESYNC_RETENTION_DAYS_AUDIT_EVENTS": "365",
        },
    )
    retention = ast.literal_eval(result.stdout)
    assert retention.pop("audit_events") == 365
    assert set(retention.values()) == {7}


def test_a_retention_of_zero_days_is_refused():
    result = _import_settings({"RESYNC_RETENTION_DAYS": "0"})
    assert result.returncode != 0
    assert "RESYNC_RETENTION_DAYS must be at least 1" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("RESYNC_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example"), ("RESYNC_THROTTLE_LOGIN", "lots")],
)
def test_bad_abuse_protection_settings_are_named(name, value):
    result = _import_settings({name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_a_rate_can_be_turned_off():
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RESYNC_"))}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resync_site.settings as s; print(s.RESYNC_THROTTLE_RATES)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**clean, "RESYNC_THROTTLE_USER": "off", "RESYNC_THROTTLE_LOGIN": "5/Minute"},
    )
    assert "'user': None" in result.stdout
    assert "'login': '5/minute'" in result.stdout


PRINT_LOG_FORMAT = (
    "import resync_site.settings as s; print(s.LOG_FORMAT, s.LOGGING['handlers']['console']"
    "['formatter'])"
)
PRODUCTION_SECRETS = {
    "RESYNC_ENV": "production",
    "DJANGO_SECRET_KEY": "x" * 50,
    "RESYNC_ENCRYPTION_KEYS": "k",
    "DJANGO_ALLOWED_HOSTS": "resync.example.com",
}


@pytest.mark.parametrize(
    ("extra_env", "expected"),
    [
        ({}, "plain"),
        (PRODUCTION_SECRETS, "json"),
        ({**PRODUCTION_SECRETS, "LOG_FORMAT": "plain"}, "plain"),
        ({"LOG_FORMAT": "JSON"}, "json"),
    ],
)
def test_logs_are_json_lines_in_production_unless_log_format_says_otherwise(extra_env, expected):
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RESYNC_", "LOG_"))
    }
    result = subprocess.run(
        [sys.executable, "-c", PRINT_LOG_FORMAT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**clean, **extra_env},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [expected, expected]


def test_an_unknown_log_format_is_named():
    result = _import_settings({"LOG_FORMAT": "xml"})
    assert result.returncode != 0
    assert "LOG_FORMAT" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RESYNC_METRICS_ALLOWED_IPS", "10.0.0.0/8, prometheus.example"),
        ("PROMETHEUS_MULTIPROC_DIR", "/nonexistent/resync-metrics"),
        ("RESYNC_HTTP_METRICS", "sometimes"),
    ],
)
def test_bad_monitoring_settings_are_named(name, value):
    result = _import_settings({name: value})
    assert result.returncode != 0
    assert name in result.stderr.splitlines()[-1]


def test_the_metrics_middleware_can_be_left_out():
    code = "import resync_site.settings as s; print(s.MIDDLEWARE[0])"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RESYNC_"))}
    for switch, first in (("1", "MetricsMiddleware"), ("0", "RequestIdMiddleware")):
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**clean, "RESYNC_HTTP_METRICS": switch},
        )
        assert result.stdout.strip().endswith(first)
