"""HwaClient against the real simulator over HTTP: parsing, paging, actions and faults."""

from __future__ import annotations

import dataclasses
from datetime import UTC

import httpx
import pytest

from apps.core.breaker import BreakerState, CircuitBreaker
from apps.core.hwa import errors
from apps.core.hwa.client import CONNECTED
from apps.core.hwa.errors import (
    HwaAuthError,
    HwaError,
    HwaNotFound,
    HwaProtocolError,
    HwaRefused,
    HwaTimeout,
    HwaUnavailable,
)
from apps.core.hwa.simulator import ALL_STATES, SimulatorServer
from apps.core.hwa.types import records
from tests.core.hwa.conftest import ClientFactory, FakeClock, port_refuses, wait_until

FLAVOURS = pytest.mark.parametrize("flavour", ["v1", "v2"])
JOB_QUERY = {"v1": ("POST", "/twsd/plan/current/job/query"), "v2": ("GET", "/twsd/api/v2/plan/job")}


def first_job_in(sim: SimulatorServer, state: str) -> str:
    return next(job.hwa_id for job in sim.plan.jobs if job.state == state)


# --- every documented call, both flavours ------------------------------------------------
@FLAVOURS
def test_it_lists_plan_workstations(sim, make_client: ClientFactory, flavour) -> None:
    got = list(records(make_client(flavour=flavour, page_size=5).iter_workstations()))
    expected = [(ws.name, ws.type, ws.link_state) for ws in sim.plan.workstations]
    assert [(w.name, w.type, w.link_state) for w in got] == expected
    assert {w.link_state for w in got} == {"LINKED", "UNLINKED", "OFFLINE"}


@FLAVOURS
def test_it_lists_jobstreams_with_utc_times(sim, make_client: ClientFactory, flavour) -> None:
    got = list(records(make_client(flavour=flavour).iter_jobstreams()))
    assert len(got) == len(sim.plan.streams) == 30
    first, sim_first = got[0], sim.plan.streams[0]
    assert (first.hwa_id, first.name, first.workstation) == (
        sim_first.hwa_id,
        sim_first.name,
        sim_first.workstation,
    )
    assert first.scheduled_time == sim_first.scheduled_time
    assert first.scheduled_time.tzinfo is UTC


@FLAVOURS
def test_it_pages_jobs_across_several_pages(sim, make_client: ClientFactory, flavour) -> None:
    pages = list(make_client(flavour=flavour, page_size=70).iter_jobs())
    assert [len(p.items) for p in pages] == [70, 70, 70, 70, 20]
    assert [p.is_last for p in pages] == [False, False, False, False, True]
    assert [j.hwa_id for p in pages for j in p.items] == [j.hwa_id for j in sim.plan.jobs]
    assert sim.request_count(*JOB_QUERY[flavour]) == 5


@FLAVOURS
def test_get_job_matches_the_listed_record(sim, make_client: ClientFactory, flavour) -> None:
    client = make_client(flavour=flavour)
    listed = {j.hwa_id: j for j in records(client.iter_jobs())}
    sim_job = next(j for j in sim.plan.jobs if j.state == "SUCC")
    got = client.get_job(sim_job.hwa_id)
    assert got == listed[sim_job.hwa_id]
    assert (got.internal_state, got.return_code, got.start) == ("SUCC", 0, sim_job.start)
    assert got.stream_name == sim_job.stream.name
    assert got.workstation == sim_job.workstation


@FLAVOURS
def test_each_action_is_forwarded_and_changes_the_job(sim, make_client, flavour) -> None:
    client = make_client(flavour=flavour)
    job_id = first_job_in(sim, "WAIT")
    assert "held" in client.job_action(job_id, "hold").messages[0]
    assert client.get_job(job_id).internal_state == "HOLD"
    client.job_action(job_id, "release")
    assert client.get_job(job_id).internal_state == "WAIT"
    client.job_action(job_id, "cancel")
    assert client.get_job(job_id).internal_state == "CANCL"
    client.job_action(job_id, "rerun")
    rerun = client.get_job(job_id)
    assert (rerun.internal_state, rerun.rerun_count) == ("WAIT", 1)


def test_a_refused_action_carries_hwa_messages_as_a_conflict(sim, make_client) -> None:
    job_id = first_job_in(sim, "WAIT")
    with pytest.raises(HwaRefused) as caught:
        make_client().job_action(job_id, "release")
    assert caught.value.status_code == 409
    assert caught.value.messages
    assert "is not held" in caught.value.messages[0]
    assert caught.value.messages[0] in caught.value.detail


@FLAVOURS
def test_an_unknown_job_is_not_found(make_client: ClientFactory, flavour) -> None:
    with pytest.raises(HwaNotFound) as caught:
        make_client(flavour=flavour).get_job("no-such-job")
    assert caught.value.status_code == 404


def test_an_unknown_action_is_rejected_before_any_call(sim, make_client) -> None:
    with pytest.raises(ValueError, match="Unknown job action"):
        make_client().job_action(first_job_in(sim, "WAIT"), "kill")  # type: ignore[arg-type]
    assert sim.request_count() == 0


# --- tolerance ---------------------------------------------------------------------------
@FLAVOURS
def test_unknown_states_and_absent_optional_fields_are_kept(sim, make_client, flavour) -> None:
    jobs = list(records(make_client(flavour=flavour).iter_jobs()))
    assert {j.internal_state for j in jobs} == set(ALL_STATES)  # SUSP, RJOB... included
    waiting = next(j for j in jobs if j.internal_state == "WAIT")
    assert (waiting.return_code, waiting.start, waiting.end) == (None, None, None)
    # v1 omits a job's workstation when it runs on its stream's: the stream's is used.
    assert all(j.workstation for j in jobs)


# --- retries, timeouts and faults ----------------------------------------------------------
def test_a_timeout_is_retried_then_surfaced(sim, make_client: ClientFactory) -> None:
    sim.set_faults(latency_ms=400)
    client = make_client(read_timeout=0.05, max_retries=2)
    with pytest.raises(HwaTimeout) as caught:
        client.get_job(sim.plan.jobs[0].hwa_id)
    assert sim.request_count("GET") == 3
    assert len(make_client.sleeps) == 2
    assert caught.value.status_code == 504
    assert "after 3 attempt(s)" in caught.value.detail


def test_a_query_succeeds_after_transient_server_errors(sim, make_client) -> None:
    sim.set_faults(error_rate=1.0)
    client = make_client(max_retries=3)
    # The simulator recovers while the client backs off before its second retry.
    make_client.sleeps = RecoverAfter(sim, calls=2)
    client._sleep = make_client.sleeps.append
    job = client.get_job(sim.plan.jobs[0].hwa_id)
    assert job.hwa_id == sim.plan.jobs[0].hwa_id
    assert sim.request_count("GET") == 3


class RecoverAfter(list):
    """A sleep recorder that switches the error fault off after `calls` backoffs."""

    def __init__(self, sim: SimulatorServer, calls: int) -> None:
        super().__init__()
        self.sim, self.calls = sim, calls

    def append(self, delay: float) -> None:
        super().append(delay)
        if len(self) == self.calls:
            self.sim.set_faults(error_rate=0.0)


def test_server_errors_on_queries_are_retried_up_to_the_limit(sim, make_client) -> None:
    sim.set_faults(error_rate=1.0)
    with pytest.raises(HwaError) as caught:
        list(make_client(max_retries=3).iter_jobs())
    assert sim.request_count(*JOB_QUERY["v1"]) == 4
    assert caught.value.messages[0].startswith("Simulated server error")
    assert all(0 <= delay <= 10 for delay in make_client.sleeps)
    assert len(make_client.sleeps) == 3


@pytest.mark.parametrize("action", ["rerun", "hold", "release", "cancel"])
def test_actions_are_never_retried_on_server_errors(sim, make_client, action) -> None:
    sim.set_faults(error_rate=1.0)
    with pytest.raises(HwaError):
        make_client(max_retries=5).job_action(sim.plan.jobs[0].hwa_id, action)
    assert sim.request_count("PUT") == 1
    assert make_client.sleeps == []


def test_an_action_that_times_out_is_not_retried(sim, make_client) -> None:
    sim.set_faults(latency_ms=400)
    with pytest.raises(HwaTimeout):
        make_client(read_timeout=0.05).job_action(first_job_in(sim, "WAIT"), "hold")
    assert sim.request_count("PUT") == 1


@FLAVOURS
def test_malformed_json_fails_with_its_reason(sim, make_client, flavour) -> None:
    sim.set_faults(malformed_json=True)
    with pytest.raises(HwaProtocolError) as caught:
        list(make_client(flavour=flavour).iter_jobs())
    prefix = errors.MALFORMED_JSON.split("{reason}")[0].format(
        method=JOB_QUERY[flavour][0], path=JOB_QUERY[flavour][1].removeprefix("/twsd")
    )
    assert caught.value.detail.startswith(prefix)
    assert len(caught.value.detail) > len(prefix)  # the JSON decoder's reason follows


def test_wrong_credentials_are_an_auth_error_without_retry(sim, make_client) -> None:
    client = make_client(password="not-the-password", max_retries=3)
    with pytest.raises(HwaAuthError) as caught:
        list(client.iter_workstations())
    assert caught.value.detail.startswith(
        errors.AUTH_REJECTED.format(username="resync", status=401)
    )
    assert sim.request_count() == 1
    assert client.breaker.snapshot().consecutive_failures == 0


def test_the_wrong_credentials_fault_rejects_good_credentials(sim, make_client) -> None:
    httpx.post(f"{sim.url}/__simulator__/faults", json={"wrong_credentials": True})
    with pytest.raises(HwaAuthError):
        make_client().get_job(sim.plan.jobs[0].hwa_id)


def test_refused_connections_are_unavailable_then_recover(sim, make_client) -> None:
    client = make_client(max_retries=1)
    assert client.ping()
    sim.set_faults(refuse_connections=True)
    wait_until(lambda: port_refuses(sim))
    with pytest.raises(HwaUnavailable) as caught:
        client.get_job(sim.plan.jobs[0].hwa_id)
    assert caught.value.status_code == 503
    assert caught.value.retry_after >= 1
    assert caught.value.detail.startswith(
        errors.UNREACHABLE.split("{reason}")[0].format(url=sim.base_url)
    )
    sim.set_faults(refuse_connections=False)
    wait_until(lambda: not port_refuses(sim))
    assert client.get_job(sim.plan.jobs[0].hwa_id).hwa_id == sim.plan.jobs[0].hwa_id


# --- the breaker around calls ------------------------------------------------------------
def test_breaker_opens_refuses_fast_half_opens_and_closes(sim, make_client) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=3, cooloff=30, clock=clock)
    client = make_client(breaker=breaker, max_retries=0)
    job_id = sim.plan.jobs[0].hwa_id
    sim.set_faults(error_rate=1.0)
    for _ in range(3):
        with pytest.raises(HwaError):
            client.get_job(job_id)
    assert breaker.state is BreakerState.OPEN

    with pytest.raises(HwaUnavailable) as caught:
        client.get_job(job_id)
    assert sim.request_count() == 3  # refused without calling HWA
    assert caught.value.detail == errors.CIRCUIT_OPEN.format(failures=3, retry_after=30)

    clock.now += 30
    assert breaker.state is BreakerState.HALF_OPEN
    sim.set_faults(error_rate=0.0)
    assert client.get_job(job_id).hwa_id == job_id
    assert breaker.state is BreakerState.CLOSED
    assert breaker.snapshot().total_failures == 3


def test_a_failed_half_open_trial_reopens_the_breaker(sim, make_client) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, cooloff=5, clock=clock)
    client = make_client(breaker=breaker, max_retries=0)
    sim.set_faults(error_rate=1.0)
    with pytest.raises(HwaError):
        client.get_job(sim.plan.jobs[0].hwa_id)
    clock.now += 5
    with pytest.raises(HwaError):
        client.get_job(sim.plan.jobs[0].hwa_id)
    assert sim.request_count() == 2
    assert breaker.state is BreakerState.OPEN


# --- connection test, reconfigure -------------------------------------------------------------
def test_test_connection_reports_success_or_the_exact_failure(sim, make_client) -> None:
    check = make_client().test_connection()
    assert check.ok
    assert check.detail == CONNECTED.format(url=sim.base_url, username="resync", flavour="v1")
    bad = make_client(password="wrong").test_connection()
    assert not bad.ok
    assert bad.detail.startswith(errors.AUTH_REJECTED.format(username="resync", status=401))


def test_reconfigure_uses_the_new_settings_for_later_calls(sim, make_client) -> None:
    client = make_client(page_size=100)
    assert len(list(client.iter_jobs())) == 3
    client.reconfigure(dataclasses.replace(client.settings, page_size=150, max_connections=2))
    assert len(list(client.iter_jobs())) == 2
    assert client.settings.max_connections == 2


def test_reconfigure_lets_a_listing_in_progress_finish(sim, make_client) -> None:
    client = make_client(page_size=100)
    pages = client.iter_jobs()
    first = next(pages)
    client.reconfigure(client.settings)
    rest = list(pages)
    assert len(first.items) + sum(len(p.items) for p in rest) == 300
