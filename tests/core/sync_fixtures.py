"""Fixtures for the sync tests: a real simulator over HTTP and the HWA connection row."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.core.hwa.client import HwaClient
from apps.core.hwa.simulator import SimulatorPlan, SimulatorServer
from apps.core.models import HwaConnection, Job
from apps.core.selectors.sync import freshness_reset
from apps.core.services.hwa import client_close, client_settings, hwa_connection_save
from apps.core.services.sync import plan_sync

PASSWORD = "sim-sync-password"
JOBS = 400


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(plan=SimulatorPlan(jobs=JOBS, seed=5), password=PASSWORD) as server:
        yield server


@pytest.fixture
def hwa_connection(sim, db) -> Iterator[HwaConnection]:
    connection = HwaConnection(
        base_url=sim.base_url, username="resync", page_size=100, sync_interval=60
    )
    hwa_connection_save(connection=connection, actor=None, source="system", password=PASSWORD)
    freshness_reset()
    yield connection
    client_close()
    freshness_reset()


@pytest.fixture
def hwa(hwa_connection) -> Iterator[HwaClient]:
    with HwaClient(client_settings(hwa_connection, max_retries=0)) as hwa:
        yield hwa


@pytest.fixture
def synced(sim, hwa) -> SimulatorServer:
    """The simulator, with its plan synced into the mirror."""
    plan_sync(client=hwa)
    return sim


def waiting_job(sim: SimulatorServer) -> Job:
    """The mirror's copy of a job the simulator holds waiting (one that may be held)."""
    job = next(j for j in sim.plan.jobs if j.state == "WAIT")
    return Job.objects.get(hwa_id=job.hwa_id)
