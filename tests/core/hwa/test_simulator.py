"""The simulator itself: determinism, evolution over time, runtime control over HTTP."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from apps.core.hwa.client import HwaClient
from apps.core.hwa.simulator import SimulatorPlan, SimulatorServer
from apps.core.hwa.simulator.plan import PLAN_DAY
from apps.core.hwa.types import JobRecord, records
from apps.core.states import ENDED_JOB_STATES, stream_state
from tests.core.hwa.conftest import PASSWORD, ClientFactory, port_refuses, wait_until

# The only moves a tick makes; anything else back to WAIT must be a rerun.
FORWARD_MOVES = {("WAIT", "READY"), ("READY", "EXEC"), ("EXEC", "SUCC"), ("EXEC", "ABEND")}
TICKS = 40


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
    assert len(changed) == len(set(changed)) == 20
    assert all(before[job_id] != plan.job(job_id).state for job_id in changed)


@pytest.fixture
def day_sim() -> Iterator[SimulatorServer]:
    """A simulator in the middle of a plan day (a fixed one: tests must not depend on the
    time they run at)."""
    plan = SimulatorPlan(jobs=600, seed=11, change_rate=0.03)
    with SimulatorServer(plan=plan, password=PASSWORD) as server:
        yield server


@pytest.fixture
def day_client(day_sim: SimulatorServer) -> Iterator[HwaClient]:
    with ClientFactory(day_sim) as factory:
        yield factory()


def test_on_the_wall_clock_it_is_todays_plan_and_ticks_never_pass_the_clock() -> None:
    plan = SimulatorPlan(jobs=300, seed=2, wall_clock=True)
    plan.tick(50)  # 50 x 10 s would be far ahead of the clock
    now = datetime.now(UTC)
    assert plan.start_time.time() == datetime.min.time()  # a plan day starts at midnight
    assert plan.start_time <= plan.now <= now < plan.start_time + PLAN_DAY + timedelta(minutes=1)
    assert all(job.start is None or job.start <= now for job in plan.jobs)


def _tick(sim: SimulatorServer) -> datetime:
    """Advance one tick over HTTP; returns the simulator's clock."""
    httpx.post(f"{sim.url}/__simulator__/tick", json={"count": 1}).raise_for_status()
    return datetime.fromisoformat(httpx.get(f"{sim.url}/__simulator__/stats").json()["now"])


def _jobs(client: HwaClient) -> dict[str, JobRecord]:
    return {job.hwa_id: job for job in records(client.iter_jobs())}


def test_no_job_reports_a_time_after_now_over_many_ticks(day_sim, day_client) -> None:
    for _ in range(TICKS):
        now = _tick(day_sim)
        jobs = _jobs(day_client)
        started = [job for job in jobs.values() if job.start is not None]
        assert started
        assert all(job.start <= now <= datetime.now(UTC) for job in started)
        assert all(job.end is None or job.start <= job.end <= now for job in started)
        for job in jobs.values():
            if job.internal_state in ("SUCC", "ABEND"):
                assert job.start is not None, job
                assert job.end is not None, job


def test_jobs_only_move_forward_unless_rerun(day_sim, day_client) -> None:
    before = _jobs(day_client)
    moves = reruns = 0
    for _ in range(TICKS):
        _tick(day_sim)
        after = _jobs(day_client)
        for hwa_id, job in after.items():
            old = before[hwa_id]
            if old.internal_state == job.internal_state:
                continue
            moves += 1
            move = (old.internal_state, job.internal_state)
            rerun = job.internal_state == "WAIT" and job.rerun_count == old.rerun_count + 1
            assert move in FORWARD_MOVES or rerun, (hwa_id, move)
            reruns += rerun
        before = after
    assert moves >= TICKS  # the plan did move
    assert reruns  # and the simulated operator reran an abended job


def test_job_stream_states_follow_their_jobs(day_sim, day_client) -> None:
    seen: set[str] = set()
    for _ in range(5):
        now = _tick(day_sim)
        jobs_by_stream = defaultdict(list)
        for job in records(day_client.iter_jobs()):
            jobs_by_stream[job.stream_hwa_id].append(job.internal_state)
        for stream in records(day_client.iter_jobstreams()):
            due = stream.scheduled_time <= now
            expected = stream_state(jobs_by_stream[stream.hwa_id], due=due)
            assert stream.internal_state == expected, stream
            seen.add(stream.internal_state)
    assert {"HOLD", "EXEC", "SUCC"} <= seen


def test_the_next_plan_day_renews_finished_streams_and_carries_the_others() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    last_minutes = start + PLAN_DAY - timedelta(minutes=5)
    plan = SimulatorPlan(jobs=300, seed=4, tick_seconds=600, start_time=start, now=last_minutes)
    finished = [s for s in plan.streams if all(j.state in ENDED_JOB_STATES for j in s.jobs)]
    running = [s for s in plan.streams if s not in finished]
    old_ids = {s.hwa_id: [j.hwa_id for j in s.jobs] for s in plan.streams}
    assert finished
    assert running

    plan.tick()

    assert plan.start_time == start + PLAN_DAY
    for stream in finished:
        assert stream.hwa_id not in old_ids
        assert stream.scheduled_time >= plan.start_time
        assert all(j.state == "WAIT" and j.start is None for j in stream.jobs)
        assert all(plan.job(j.hwa_id) is j for j in stream.jobs)
    assert all(s.hwa_id in old_ids for s in running)
    assert all(j.start is None or j.start <= plan.now for j in plan.jobs)


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


def test_a_restart_later_the_same_day_serves_the_same_ids() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    morning = SimulatorPlan(jobs=500, seed=3, start_time=start, now=start + timedelta(hours=8))
    evening = SimulatorPlan(jobs=500, seed=3, start_time=start, now=start + timedelta(hours=20))
    assert [j.hwa_id for j in morning.jobs] == [j.hwa_id for j in evening.jobs]
    assert [s.hwa_id for s in morning.streams] == [s.hwa_id for s in evening.streams]
    assert [j.state for j in morning.jobs] != [j.state for j in evening.jobs]


def test_a_job_runs_for_its_duration_before_it_ends() -> None:
    plan = SimulatorPlan(jobs=600, seed=8, change_rate=0.05, tick_seconds=60)
    ended = []
    for _ in range(30):
        running = {job.hwa_id for job in plan.jobs if job.state == "EXEC"}
        plan.tick()
        ended += [plan.job(i) for i in running if plan.job(i).state in ("SUCC", "ABEND")]
    assert ended
    assert all(job.end - job.start >= job.duration for job in ended)
