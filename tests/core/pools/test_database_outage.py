"""PostgreSQL stopped under load, against a real server: fast 503s, never a 500 or a hang,
cached plan reads still served, health answering, and a quick recovery after a restart.

The server is gunicorn (gthread, production settings) on a throwaway cluster of its own
(tests/outages.py), so stopping it disturbs nothing else; the load runs over loopback.
"""

from __future__ import annotations

import time

import httpx
import pytest

from apps.core.pools.unavailable import DATABASE_DOWN, POOL_EXHAUSTED
from tests.bench import harness
from tests.outages import (
    CACHED,
    HEALTH,
    Load,
    ThrowawayPostgres,
    first_success_after,
    postgres_unavailable_reason,
    prepare,
    server_env,
    watch_health,
)

_skip = postgres_unavailable_reason()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(_skip is not None, reason=_skip or "")]

# The bounds the outage issue sets. Observed on a loaded 2-core machine: 503s in ~40 ms,
# health in ~5 ms, recovery in ~0.2 s, so these do not flake.
RESPONSE_S = 2.0
HEALTH_S = 1.0
RECOVERY_S = 2.0
# Longer than the JWT user cache (5 s): tokens go on working from the last row read.
OUTAGE_S = 6.0


@pytest.fixture(scope="module")
def cluster():
    pg = ThrowawayPostgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.destroy()


@pytest.fixture(scope="module")
def server(cluster):
    env = server_env(cluster.url)
    viewer, staff = prepare(env)
    # One worker: the cached reads the test warms are then in the process it stops under.
    with harness.gunicorn(env, workers=1, threads=4) as running:
        yield running.url, viewer, staff


def _warm(url: str, viewer: str, staff: str) -> None:
    """Fill the cache and the JWT user cache, as traffic before an outage would."""
    for token, paths in ((viewer, CACHED), (staff, (HEALTH,))):
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            for path in paths:
                assert client.get(url + path).status_code == 200


def test_a_stopped_postgresql_answers_fast_503s_serves_the_cache_and_recovers(server, cluster):
    url, viewer, staff = server
    _warm(url, viewer, staff)

    with Load(url, viewer) as load:
        time.sleep(1.0)
        stopping = time.monotonic()
        cluster.stop()
        stopped = time.monotonic()
        health = watch_health(url, staff, stopped + OUTAGE_S)
        restarting = time.monotonic()  # PostgreSQL may serve before `pg_ctl start` returns
        cluster.start()
        restarted = time.monotonic()
        first = first_success_after(url, viewer, restarted, 10 * RECOVERY_S)
        time.sleep(0.5)

    outcomes = load.outcomes + health
    during = load.between(stopped, restarting)
    cached = [o for o in during if o.kind == "cached"]
    uncached = [o for o in during if o.kind == "uncached"]
    first_503 = min((o.ended for o in uncached if o.status == 503), default=stopping)
    print(
        f"\n{len(outcomes)} requests; stopping PostgreSQL took {stopped - stopping:.2f} s; "
        f"first 503 {first_503 - stopping:.3f} s after the stop began; slowest response "
        f"{max(o.seconds for o in outcomes):.3f} s; slowest health "
        f"{max((o.seconds for o in health), default=0):.3f} s; first success "
        f"{(first.ended - restarted) if first else float('nan'):.3f} s after the restart"
    )

    assert [o for o in outcomes if o.status == 500 or isinstance(o.status, str)] == []
    assert [o for o in outcomes if o.seconds >= RESPONSE_S] == []
    # Cached plan reads are served from the cache throughout.
    assert cached
    assert {o.status for o in cached} == {200}
    # Reads that need PostgreSQL fail fast, as a 503 problem with Retry-After.
    assert uncached
    assert {o.status for o in uncached} == {503}
    assert {o.retry_after for o in uncached} == {"1"}
    assert {o.body["detail"] for o in uncached} <= {DATABASE_DOWN, POOL_EXHAUSTED}
    assert DATABASE_DOWN in {o.body["detail"] for o in uncached}
    # Health answers at once, unhealthy, and tells staff why.
    assert health
    assert [o for o in health if o.seconds >= HEALTH_S] == []
    assert {o.status for o in health} == {503}
    assert {o.body["status"] for o in health} == {"unhealthy"}
    database = health[-1].body["components"]["database"]
    assert database["status"] == "unhealthy"
    assert "unavailable" in database["detail"]
    # The first request after the restart succeeds quickly.
    assert first is not None, "no request succeeded after PostgreSQL came back"
    assert first.ended - restarted < RECOVERY_S
