"""Where a request's time goes, in one process (``python -m tests.bench.profile_read``).

Calls the WSGI application directly (no server, no sockets) with production settings on the
bench database and Redis, for a path (default: the cached ``jobs/status/`` as a viewer with a
JWT), and prints the microseconds per request and cProfile's top functions. The served
benchmarks say how fast; this says why.

Options: ``--path``, ``--requests`` (5,000), ``--top`` (25), ``--anonymous`` (no token),
``--sort`` (tottime or cumulative), ``--session`` (signed in with a session cookie, as the
console is, instead of a JWT).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time

from tests.bench import harness


def _environ(path: str, token: str | None, cookie: str | None = None) -> dict:
    route, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT": "application/json",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if cookie:
        environ["HTTP_COOKIE"] = cookie
        environ["HTTP_ACCEPT"] = "text/html"
    return environ


def _call(application, path: str, token: str | None, cookie: str | None = None) -> int:
    status = []
    environ = _environ(path, token, cookie)
    body = application(environ, lambda s, h, exc=None: status.append(s))
    for _ in body:
        pass
    if hasattr(body, "close"):
        body.close()
    return int(status[0].split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", default="/api/v1/jobs/status/")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--anonymous", action="store_true")
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument("--session", action="store_true", help="a console session, no JWT")
    args = parser.parse_args()

    env, token = harness.served_plan()
    cookie = None
    if args.session:
        from tests.bench.console import session_cookie

        cookie, token = session_cookie(env), None
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.bench.settings"
    import django

    django.setup(set_prefix=False)
    from resync_site.handler import ResyncWSGIHandler  # what resync_site.wsgi serves

    application = ResyncWSGIHandler()
    token = None if args.anonymous else token
    for _ in range(200):  # warm-up: caches, pools, the response cache entry
        status = _call(application, args.path, token, cookie)
    print(f"{args.path}: HTTP {status}; load average {os.getloadavg()[0]:.2f}")

    # CPU time of this process, not wall time: far less sensitive to other work on the
    # machine (threads waiting on PostgreSQL or Redis are not counted; a cache hit has none).
    started = time.process_time()
    for _ in range(args.requests):
        _call(application, args.path, token, cookie)
    cpu_us = (time.process_time() - started) / args.requests * 1e6

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.requests):
        _call(application, args.path, token, cookie)
    profiler.disable()
    print(f"{cpu_us:.0f} us CPU per request without the profiler ({args.requests:,} requests)\n")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
