"""The README's production section, followed step by step: its environment passes
`check --deploy` with no warning, and a server started as it says (migrate, collectstatic,
granian through `python -m resync_site.serve`, or gunicorn with
resync_site/gunicorn.conf.py, behind a TLS proxy) serves the admin login page,
its static files and the full header set, over production settings (DEBUG off).

The servers get an SQLite file of their own and no Redis, in both modes: what is checked
here does not depend on them, and they stay apart from the suite's.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from django.conf import settings

from tests.bench import harness

ROOT = Path(__file__).resolve().parent.parent
HOST = "resync.example.com"
ORIGIN = "https://ops.example.com"
AS_THE_PROXY = {"Host": HOST, "X-Forwarded-Proto": "https"}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
FULL_SET = (
    "Permissions-Policy",
    "Cross-Origin-Opener-Policy",
    "Cross-Origin-Resource-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "X-XSS-Protection",
    "Content-Security-Policy",
)


def production_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("\n## Production\n", 1)[1].split("\n## ", 1)[0]


def documented_variables() -> list[str]:
    """The variables the README's production environment block exports."""
    block = production_section().split("```sh", 1)[1].split("```", 1)[0]
    return re.findall(r"^\s*export (\w+)=", block, flags=re.MULTILINE)


def production_env(database_url: str, **overrides: str) -> dict[str, str]:
    """The README's production environment with values of our own, and nothing else set."""
    documented = {
        "RESYNC_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "RESYNC_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL or "redis://127.0.0.1:6379/0",
        "DJANGO_BEHIND_TLS_PROXY": "1",
        "RESYNC_TRUSTED_PROXIES": "127.0.0.1",
        "WEB_CONCURRENCY": "4",
        "CORS_ALLOWED_ORIGINS": ORIGIN,
    }
    assert sorted(documented) == sorted(documented_variables()), "README and test disagree"
    unset = ("DJANGO_", "RESYNC_", "DATABASE_URL", "REDIS_URL", "DB_", "CORS_", "WEB_CONCURRENCY")
    env = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    return {**env, **documented, "LOG_LEVEL": "warning", **overrides}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_readme_lists_each_step_this_test_takes():
    steps = production_section()
    for command in (
        "manage.py migrate",
        "manage.py collectstatic --noinput",
        "manage.py check --deploy",
        "manage.py createsuperuser",
        "manage.py grant_role",
        "python -m resync_site.serve",
        "gunicorn -c resync_site/gunicorn.conf.py",
        "manage.py sync_plan --loop",
        "manage.py flush_expired_tokens",
        "X-Forwarded-Proto",
    ):
        assert command in steps, command


@pytest.mark.slow
def test_check_deploy_reports_nothing_with_the_documented_environment(tmp_path):
    env = production_env(f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    done = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> dict[str, str]:
    """migrate and collectstatic as the README says, into files of this module's own."""
    tmp = tmp_path_factory.mktemp("deployed")
    env = production_env(
        f"sqlite:///{tmp / 'resync.sqlite3'}",
        DJANGO_STATIC_ROOT=str(tmp / "static"),
        DJANGO_ALLOWED_HOSTS=f"{HOST},127.0.0.1",  # 127.0.0.1: the harness's health probe
    )
    # Not the suite's Redis: config versions there are shared by every process using it, and
    # these servers' database is not the suite's.
    del env["REDIS_URL"]
    for step in (("migrate", "--noinput"), ("collectstatic", "--noinput")):
        done = manage(env, *step, "-v", "0")
        assert done.returncode == 0, done.stdout + done.stderr
    return env


@pytest.fixture(params=sorted(harness.SERVERS))
def server(request, deployed) -> Iterator[harness.Server]:
    """The production server (granian) and the documented alternative (gunicorn)."""
    with harness.SERVERS[request.param](deployed, workers=1, threads=2) as running:
        yield running


@pytest.mark.slow
def test_the_admin_login_page_is_served_with_its_static_files(server):
    with httpx.Client(base_url=server.url, headers=AS_THE_PROXY, timeout=30) as client:
        page = client.get("/admin/login/")
        assert page.status_code == 200, page.text[:2000]
        stylesheets = re.findall(r'href="(/static/admin/css/[^"]+\.css)"', page.text)
        assert stylesheets
        for path in stylesheets:  # hashed names from the manifest collectstatic wrote
            assert re.search(r"\.[0-9a-f]{12}\.css$", path), path
            assert client.get(path).status_code == 200, path
        for name in FULL_SET:
            assert name in page.headers, name
        assert page.headers["X-XSS-Protection"] == "0"
        assert "preload" in page.headers["Strict-Transport-Security"]
        # The server's name, no version (the proxy replaces it).
        assert page.headers["Server"] in {"gunicorn", "granian"}


@pytest.mark.slow
def test_plain_http_is_redirected_except_health(server):
    with httpx.Client(base_url=server.url, headers={"Host": HOST}, timeout=30) as client:
        redirect = client.get("/admin/login/")
        assert redirect.status_code == 301
        assert redirect.headers["Location"] == f"https://{HOST}/admin/login/"
        assert client.get("/api/v1/health/").status_code == 200


@pytest.mark.slow
def test_production_answers_json_only_and_keeps_the_docs_for_signed_in_users(server):
    with httpx.Client(base_url=server.url, headers=AS_THE_PROXY, timeout=30) as client:
        health = client.get("/api/v1/health/", headers={"Accept": BROWSER_ACCEPT})
        assert health.headers["Content-Type"] == "application/json"
        assert health.headers["Cache-Control"] == "no-store"
        assert client.get("/api/v1/health/?format=api").status_code == 404
        for path in ("/api/docs/", "/api/schema/"):
            assert client.get(path).status_code == 401, path


@pytest.mark.slow
def test_migrate_seeded_the_documented_cors_origin(server):
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    with httpx.Client(base_url=server.url, headers=AS_THE_PROXY, timeout=30) as client:
        allowed = client.options("/api/v1/jobs/", headers=preflight)
        assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
        other = client.options("/api/v1/jobs/", headers={**preflight, "Origin": "null"})
        assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(harness.SERVERS))
def test_x_forwarded_proto_is_believed_only_behind_a_tls_proxy(deployed, name):
    env = {**deployed, "DJANGO_BEHIND_TLS_PROXY": "0"}
    with harness.SERVERS[name](env, workers=1, threads=2) as running:
        spoofed = httpx.get(f"{running.url}/admin/login/", headers=AS_THE_PROXY, timeout=30)
    # gunicorn's own default would take the header from 127.0.0.1 and serve the page (200).
    assert spoofed.status_code == 301


@pytest.mark.slow
def test_the_production_server_serves_more_idle_keep_alive_clients_than_it_has_threads(deployed):
    # `make loadtest` found it: with granian's backpressure at the thread count, a client
    # holding an idle keep-alive connection kept its slot, and the others waited forever.
    with harness.granian(deployed, workers=1, threads=2) as running:
        clients = [
            httpx.Client(base_url=running.url, headers=AS_THE_PROXY, timeout=10) for _ in range(6)
        ]
        try:
            for _ in range(2):
                for client in clients:
                    assert client.get("/api/v1/health/live/").status_code == 200
        finally:
            for client in clients:
                client.close()
