"""The simulator itself: determinism, evolution over time, runtime control over HTTP."""

from __future__ import annotations

import httpx

from apps.core.hwa.simulator import SimulatorPlan, SimulatorServer
from apps.core.hwa.types import records
from tests.core.hwa.conftest import PASSWORD, ClientFactory, port_refuses, wait_until


def test_the_same_seed_gives_the_same_plan() -> None:
    one, two = SimulatorPlan(jobs=200, seed=5), SimulatorPlan(jobs=200, seed=5)
    assert [(j.hwa_id, j.state) for j in one.jobs] == [(j.hwa_id, j.state) for j in two.jobs]
    one.tick(3)
    two.tick(3)
    assert [j.state for j in one.jobs] == [j.state for j in two.jobs]
    assert [j.hwa_id for j in SimulatorPlan(jobs=200, seed=6).jobs] != [j.hwa_id for j in one.jobs]


def test_a_tick_changes_the_configured_fraction_of_jobs() -> None:
    plan = SimulatorPlan(jobs=1000, seed=1, change_rate=0.02)
    before = {j.hwa_id: j.state for j in plan.jobs}
    changed = plan.tick()
    assert len(changed) == 20
    assert all(before[job_id] != plan.job(job_id).state for job_id in set(changed))


def test_a_forced_tick_over_http_is_seen_by_the_client(sim: SimulatorServer, make_client) -> None:
    client: ClientFactory = make_client()
    before = {j.hwa_id: j.internal_state for j in records(client.iter_jobs())}
    answer = httpx.post(f"{sim.url}/__simulator__/tick", json={"count": 2}).json()
    assert answer["ticks"] == 2
    after = {j.hwa_id: j.internal_state for j in records(client.iter_jobs())}
    assert sum(before[k] != after[k] for k in before) >= 1


def test_faults_can_be_read_and_rejected_over_http(sim: SimulatorServer) -> None:
    response = httpx.post(f"{sim.url}/__simulator__/faults", json={"error_rate": 2})
    assert response.status_code == 400
    assert "error_rate" in response.json()["messages"][0]
    httpx.post(f"{sim.url}/__simulator__/faults", json={"latency_ms": 7})
    assert httpx.get(f"{sim.url}/__simulator__/faults").json()["latency_ms"] == 7


def test_hwa_calls_require_basic_auth(sim: SimulatorServer) -> None:
    anonymous = httpx.post(f"{sim.base_url}/plan/current/job/query", json={})
    assert anonymous.status_code == 401
    assert anonymous.json()["messages"]
    authed = httpx.post(
        f"{sim.base_url}/plan/current/job/query",
        json={},
        auth=("resync", PASSWORD),
        headers={"How-Many": "10"},
    )
    assert authed.status_code == 200
    assert len(authed.json()) == 10
    assert authed.headers["Next-Page"]


def test_refusing_for_a_while_over_http_stops_and_resumes_listening(sim, make_client) -> None:
    client = make_client(max_retries=0)
    httpx.post(f"{sim.url}/__simulator__/faults", json={"refuse_connections_for_seconds": 0.2})
    assert sim.faults.refuse_connections
    sim._refuse_timer.join()  # type: ignore[union-attr]
    assert not sim.faults.refuse_connections
    wait_until(lambda: not port_refuses(sim))  # the listener reopens on its next poll
    assert client.ping()
