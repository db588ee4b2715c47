"""Serving performance (issue 12): ``python -m tests.bench.serving``, part of `make bench`.

The production server (granian through resync_site/serve.py, 2 workers x 8 threads) and the
documented alternative (gunicorn 2 x 4 gthread), each on production settings, PostgreSQL
with 100,000 demo jobs and Redis, full middleware stack, driven by wrk over loopback. On the
same warm server, in the same run:

- ``/bench/plain/`` and ``/bench/drf/``: a plain Django view and a trivial DRF view with no
  authentication (tests/bench/urls.py), the references;
- cached ``jobs/status/`` with a JWT, the cached filtered job list, ``health/``.

Targets (granian): cached jobs/status/ >= 100 % of the trivial DRF view and >= 6,000 req/s,
p99 < 50 ms at 256 connections; the filtered list >= 80 % of jobs/status/; health/ >= 80 %
of the plain view; start-up to the first healthy answer < 1.5 s; RSS of the workers.

Options: ``--duration`` (wrk seconds per run, 8), ``--servers`` (granian,gunicorn),
``--threads`` (per worker, instead of the sizes above), ``--rounds`` (1): with several, the
endpoints are measured in turn that many times on the same server and each figure is the
median run; the ratios are given per round too, since a ratio taken within one round shares
that round's conditions.
"""

from __future__ import annotations

import argparse
import os
import statistics

from tests.bench import harness

STATUS = "/api/v1/jobs/status/"
FILTERED = "/api/v1/jobs/?status=Error&ordering=-start&page_size=50"
ENDPOINTS = [
    ("plain Django view", "/bench/plain/", False),
    ("trivial DRF view, no auth", "/bench/drf/", False),
    ("cached jobs/status/ (JWT)", STATUS, True),
    ("cached filtered jobs/ (JWT)", FILTERED, True),
    ("health/", "/api/v1/health/", False),
]
SIZES = {"granian": {"workers": 2, "threads": 8}, "gunicorn": {"workers": 2, "threads": 4}}


def _measure(server, args, token: str) -> list[dict[str, dict[int, harness.LoadResult]]]:
    rounds = []
    for _ in range(args.rounds):
        results: dict[str, dict[int, harness.LoadResult]] = {}
        for label, path, authenticated in ENDPOINTS:
            url = server.url + path
            bearer = token if authenticated else None
            harness.wrk(url, connections=8, duration=2, token=bearer)  # warm-up
            results[label] = {
                connections: harness.wrk(
                    url, connections=connections, duration=args.duration, token=bearer
                )
                for connections in (64, 256)
            }
        rounds.append(results)
    return rounds


def _median(rounds, label: str, connections: int) -> harness.LoadResult:
    runs = sorted((r[label][connections] for r in rounds), key=lambda run: run.requests_per_s)
    return runs[(len(runs) - 1) // 2]


def _ratios(rounds, numerator: str, denominator: str) -> list[float]:
    return [r[numerator][64].requests_per_s / r[denominator][64].requests_per_s for r in rounds]


def _report(name: str, rounds, startup: float, rss: list[float]) -> None:
    print(f"\n{name}: {SIZES[name]['workers']} workers x {SIZES[name]['threads']} threads"
          f"{f', median of {len(rounds)} rounds' if len(rounds) > 1 else ''}")  # fmt: skip
    print(f"{'endpoint':<30}{'req/s @64':>10}{'p99 @64':>9}{'req/s @256':>11}{'p99 @256':>10}"
          f"{'errors':>8}")  # fmt: skip
    for label, _, _ in ENDPOINTS:
        low, high = _median(rounds, label, 64), _median(rounds, label, 256)
        errors = sum(r[label][c].errors for r in rounds for c in (64, 256))
        print(
            f"{label:<30}{low.requests_per_s:>10.0f}{low.p99_ms:>9.1f}"
            f"{high.requests_per_s:>11.0f}{high.p99_ms:>10.1f}{errors:>8}"
        )
    status_label = "cached jobs/status/ (JWT)"
    checks = [
        ("jobs/status/ vs trivial DRF", status_label, "trivial DRF view, no auth", 1.0),
        ("filtered jobs/ vs jobs/status/", "cached filtered jobs/ (JWT)", status_label, 0.8),
        ("health/ vs plain view", "health/", "plain Django view", 0.8),
    ]
    for what, numerator, denominator, target in checks:
        ratios = _ratios(rounds, numerator, denominator)
        ratio = statistics.median(ratios)
        each = f"  rounds: {', '.join(f'{r:.0%}' for r in ratios)}" if len(ratios) > 1 else ""
        print(f"{what:<32}{ratio:>7.0%}  (target >= {target:.0%}: "
              f"{_verdict(ratio >= target)}){each}")  # fmt: skip
    status = _median(rounds, status_label, 64).requests_per_s
    p99 = _median(rounds, status_label, 256).p99_ms
    print(f"jobs/status/ req/s @64: {status:.0f} (target >= 6,000: {_verdict(status >= 6000)}); "
          f"p99 @256 {p99:.1f} ms (target < 50: {_verdict(p99 < 50)})")  # fmt: skip
    print(f"start-up to first healthy answer: {startup:.2f} s "
          f"(target < 1.5: {_verdict(startup < 1.5)}); "
          f"worker RSS (MB): {', '.join(f'{mb:.0f}' for mb in rss)}")  # fmt: skip


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--servers", default="granian,gunicorn")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    env, token = harness.served_plan()
    env = {**env, "DJANGO_SETTINGS_MODULE": "tests.bench.settings"}
    print(f"load average {os.getloadavg()[0]:.2f} before the runs (benchmark alone)")
    for name in args.servers.split(","):
        if args.threads:
            SIZES[name] = {**SIZES[name], "threads": args.threads}
        with harness.SERVERS[name](env, **SIZES[name]) as server:
            rounds = _measure(server, args, token)
            rss = server.worker_rss_mb()
        _report(name, rounds, server.ready_s, rss)
    print(f"load average {os.getloadavg()[0]:.2f} after the runs")


if __name__ == "__main__":
    main()
