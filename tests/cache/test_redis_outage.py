"""Redis killed under load, against a real server: plan reads go on (from memory or
PostgreSQL), never a 500 or a hang; health says the cache is degraded and why; the cache
statistics count the Redis errors of every thread.

gunicorn (gthread, production settings) runs on a throwaway PostgreSQL cluster and a
throwaway redis-server of its own (tests/outages.py); the load runs over loopback.
"""

from __future__ import annotations

import shutil
import time

import httpx
import pytest

from tests.bench import harness
from tests.outages import (
    HEALTH,
    NO_REDIS,
    Load,
    ThrowawayPostgres,
    ThrowawayRedis,
    postgres_unavailable_reason,
    prepare,
    server_env,
    watch_health,
)

_skip = postgres_unavailable_reason() or (None if shutil.which("redis-server") else NO_REDIS)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(_skip is not None, reason=_skip or "")]

# The bounds the outage issue sets; observed figures are ~100x lower (see the PostgreSQL
# outage test), so these do not flake on a loaded machine.
RESPONSE_S = 2.0
HEALTH_S = 1.0
OUTAGE_S = 3.0


@pytest.fixture(scope="module")
def servers():
    pg = ThrowawayPostgres()
    redis = None
    try:
        pg.start()
        redis = ThrowawayRedis()
        yield pg, redis
    finally:
        if redis is not None:
            redis.kill()
        pg.destroy()


def test_a_killed_redis_degrades_health_counts_errors_and_fails_no_request(servers):
    pg, redis = servers
    env = server_env(pg.url, redis.url)
    viewer, staff = prepare(env)
    staff_headers = {"Authorization": f"Bearer {staff}"}
    with harness.gunicorn(env, workers=1, threads=4) as server:
        with httpx.Client(headers=staff_headers, timeout=30) as client:
            before = client.get(server.url + HEALTH).json()
        with Load(server.url, viewer) as load:
            time.sleep(1.0)
            redis.kill()
            killed = time.monotonic()
            health = watch_health(server.url, staff, killed + OUTAGE_S)
        with httpx.Client(headers=staff_headers, timeout=30) as client:
            stats = client.get(server.url + "/api/v1/cache/stats/").json()

    outcomes = load.outcomes + health
    print(
        f"\n{len(outcomes)} requests; slowest response {max(o.seconds for o in outcomes):.3f} s;"
        f" slowest health {max((o.seconds for o in health), default=0):.3f} s;"
        f" Redis errors counted: {stats['tiers']['l2']['errors']}"
    )
    assert before["components"]["cache"]["status"] == "healthy"
    assert [o for o in outcomes if o.status == 500 or isinstance(o.status, str)] == []
    assert [o for o in outcomes if o.seconds >= RESPONSE_S] == []
    assert {o.status for o in load.between(killed, time.monotonic())} == {200}
    assert health
    assert [o for o in health if o.seconds >= HEALTH_S] == []
    assert {o.status for o in health} == {200}
    cache = health[-1].body["components"]["cache"]
    assert health[-1].body["status"] == "degraded"
    assert cache["status"] == "degraded"
    assert "Redis unavailable" in cache["detail"]
    assert stats["tiers"]["l2"]["errors"] > 0
