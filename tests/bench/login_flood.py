"""A password-guessing flood against a legitimate client (`python -m tests.bench.login_flood`).

The original Resync answered 200 wrong passwords in a row with plain 401s, and 16 connections
guessing passwords raised the p50 of a cached `jobs/status/` from 5 ms to 1.29 s: every guess
hashed a password (PBKDF2, about a million rounds) and the hashing ate the CPU.

gunicorn (2 workers x 4 threads, DEBUG off, production password hashing) on PostgreSQL with
the demo plan and Redis; wrk over loopback. Three phases, each `--duration` seconds:

1. quiet: the legitimate client alone (wrk, `--connections`, JWT) on cached `jobs/status/`;
2. flood: the same while `--flood-connections` connections POST wrong passwords to
   `/api/v1/auth/token/` as fast as they are answered, with the login rate and lockout on;
3. unprotected (skip with `--skip-unprotected`): the flood again with the login rate off and
   the lockout limits out of reach, to show what the protection is worth.

Target: the legitimate p50 under the flood stays within 2x its quiet value. The per-user and
anonymous rate limits are off (harness.bench_env): the "legitimate client" is a load
generator. Locks left by a phase are lifted with `manage.py unlock` before the next one. The
load average is printed before and after: figures from a busy machine say little.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time

from tests.bench import harness

PATH = "/api/v1/jobs/status/"
TOKEN_PATH = "/api/v1/auth/token/"
FLOOD_USER = "bench"
TARGET_RATIO = 2.0
# Protection off for phase 3: no login rate, lockout limits no flood reaches.
UNPROTECTED = {
    "RESYNC_THROTTLE_LOGIN": "off",
    "RESYNC_LOCKOUT_FAILURES": "100000000",
    "RESYNC_LOCKOUT_IP_FAILURES": "100000000",
}


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def flood_script() -> str:
    """A wrk Lua script that POSTs a wrong password as JSON."""
    body = json.dumps({"username": FLOOD_USER, "password": "not-the-password"})
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
    with script:
        script.write(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(body)}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
    return script.name


def start_flood(url: str, *, connections: int, duration: int, script: str) -> subprocess.Popen:
    cmd = [
        harness.ensure_wrk(),
        "-t",
        str(min(2, connections)),
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        script,
        url + TOKEN_PATH,
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def lift_locks(env: dict[str, str]) -> None:
    for target in ("127.0.0.1", FLOOD_USER):
        harness.manage(env, "unlock", target)


def measure(
    server: harness.Server, token: str, args: argparse.Namespace, *, flood: bool, script: str
):
    """The legitimate client's figures, with or without the flood running."""
    url = server.url + PATH
    if not flood:
        return harness.wrk(
            url, connections=args.connections, duration=args.duration, token=token
        ), None
    warmup = 2
    flooder = start_flood(
        server.url,
        connections=args.flood_connections,
        duration=args.duration + warmup + 1,
        script=script,
    )
    try:
        time.sleep(warmup)
        legit = harness.wrk(url, connections=args.connections, duration=args.duration, token=token)
        out, _ = flooder.communicate(timeout=args.duration + 60)
    finally:
        if flooder.poll() is None:
            flooder.kill()
    return legit, harness.parse_wrk(out)


def run_phase(env, token, args, script, *, flood: bool, label: str, rows: list) -> None:
    """One phase on a fresh server (no process remembers the previous phase's flood)."""
    lift_locks(env)
    with harness.gunicorn(env) as server:
        harness.wrk(server.url + PATH, connections=4, duration=2, token=token)  # warm-up
        legit, flooder = measure(server, token, args, flood=flood, script=script)
        rows.append((label, legit, flooder))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=15, help="seconds per phase")
    parser.add_argument("--connections", type=int, default=4, help="legitimate client")
    parser.add_argument("--flood-connections", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=harness.BENCH_JOBS)
    parser.add_argument("--skip-unprotected", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    print(f"load average before: {load_average()}", flush=True)
    env, token = harness.served_plan(args.jobs)
    script = flood_script()

    rows: list = []
    try:
        run_phase(env, token, args, script, flood=False, label="quiet", rows=rows)
        run_phase(env, token, args, script, flood=True, label="flood, protected", rows=rows)
        if not args.skip_unprotected:
            unprotected = {**env, **UNPROTECTED}
            run_phase(
                unprotected, token, args, script, flood=True, label="flood, unprotected", rows=rows
            )
        lift_locks(env)
    finally:
        os.unlink(script)

    print(
        f"\nLogin flood: gunicorn 2 workers x 4 threads, PostgreSQL {args.jobs:,} jobs, Redis; "
        f"legitimate client {args.connections} connections on cached {PATH}, "
        f"flood {args.flood_connections} connections on {TOKEN_PATH}, {args.duration} s each"
    )
    print(
        f"{'phase':<20}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'flood req':>11}{'non-2xx':>9}{'flood p50':>11}"
    )
    for label, legit, flooder in rows:
        flood_cols = (
            f"{flooder.requests:>11}{flooder.errors:>9}{flooder.p50_ms:>11.1f}"
            if flooder
            else f"{'-':>11}{'-':>9}{'-':>11}"
        )
        print(
            f"{label:<20}{legit.requests_per_s:>9.0f}{legit.p50_ms:>9.1f}{legit.p99_ms:>9.1f}"
            f"{legit.errors:>8}{flood_cols}"
        )
    quiet, protected = rows[0][1], rows[1][1]
    ratio = protected.p50_ms / quiet.p50_ms
    verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"
    print(f"p50 under flood / quiet: {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x): {verdict}")
    print(f"load average after: {load_average()}; total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
