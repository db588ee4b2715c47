"""`python -m tests.bench.console`: the console's pages against the cached API read.

gunicorn (2 workers, DEBUG off) on PostgreSQL with 100,000 demo jobs and Redis, driven by
wrk over loopback: requests/s of the overview (/), a filtered jobs page and the cached
/api/v1/jobs/status/. The console signs in with a session cookie (a viewer's), the API with
the same viewer's JWT. Target (issue 13): each page at least 50 % of the API read.
"""

from __future__ import annotations

import argparse

import httpx

from tests.bench import harness

API = ("api jobs/status/", "/api/v1/jobs/status/")
PAGES = [
    ("console /", "/"),
    ("console jobs filtered", "/jobs/?status=Error&status=Held&ordering=-start"),
]
TARGET = 0.5


def session_cookie(env: dict[str, str]) -> str:
    """A signed-in session of the bench viewer, made as Django's login() would, and the CSRF
    cookie a browser holds after its first page (without it, every page mints a new one)."""
    code = (
        "from django.contrib.auth import get_user_model, BACKEND_SESSION_KEY, "
        "HASH_SESSION_KEY, SESSION_KEY;"
        "from django.contrib.sessions.backends.db import SessionStore;"
        "from django.conf import settings;"
        "u = get_user_model().objects.get(username='bench');"
        "s = SessionStore();"
        "s[SESSION_KEY] = str(u.pk);"
        "s[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1];"
        "s[HASH_SESSION_KEY] = u.get_session_auth_hash();"
        "s.create();"
        "from django.utils.crypto import get_random_string;"
        "print(settings.SESSION_COOKIE_NAME + '=' + s.session_key + '; ' "
        "+ settings.CSRF_COOKIE_NAME + '=' + get_random_string(32))"
    )
    return harness.shell(env, code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--jobs", type=int, default=harness.BENCH_JOBS)
    args = parser.parse_args()

    env, token = harness.served_plan(args.jobs)
    cookie = {"Cookie": session_cookie(env)}
    rows = []
    with harness.gunicorn(env) as server:
        # wrk counts a redirect to the sign-in page as a success: check the pages answer.
        for _label, path in PAGES:
            answer = httpx.get(
                server.url + path, headers=cookie, follow_redirects=False, timeout=120
            )
            assert answer.status_code == 200, f"{path}: {answer.status_code}"
        for label, path, auth in [
            (*API, {"token": token}),
            *[(*p, {"headers": cookie}) for p in PAGES],
        ]:
            url = server.url + path
            harness.wrk(url, connections=4, duration=2, **auth)  # warm-up: fill the caches
            result = harness.wrk(url, connections=args.connections, duration=args.duration, **auth)
            rows.append((label, result))

    api = rows[0][1].requests_per_s or 1
    print(
        f"\nConsole vs cached API: gunicorn 2 workers x 4 threads, PostgreSQL {args.jobs:,} "
        f"jobs, Redis, {args.connections} connections, {args.duration} s each"
    )
    print(f"{'endpoint':<24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'vs API':>9}")
    for label, r in rows:
        print(
            f"{label:<24}{r.requests_per_s:>10.0f}{r.p50_ms:>10.1f}{r.p99_ms:>10.1f}"
            f"{r.errors:>8}{r.requests_per_s / api:>8.0%}"
        )
    print(f"target: each console page >= {TARGET:.0%} of the API read")


if __name__ == "__main__":
    main()
