"""Fixtures: a real HWA simulator on a free port, and clients pointed at it.

No test here touches the database; they talk HTTP to the simulator on a background thread.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from apps.core.hwa.client import HwaClient, HwaClientSettings
from apps.core.hwa.simulator import SimulatorPlan, SimulatorServer
from tests.core.simulator_clients import SimulatorClientFactory

PASSWORD = "sim-test-password"


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    server = SimulatorServer(plan=SimulatorPlan(jobs=300, seed=42), password=PASSWORD)
    with server:
        yield server


class ClientFactory(SimulatorClientFactory[HwaClient]):
    client_class, settings_class = HwaClient, HwaClientSettings

    def defaults(self) -> dict[str, Any]:
        return {
            "base_url": self.sim.base_url,
            "username": "resync",
            "password": PASSWORD,
            "page_size": 100,
            "max_retries": 2,
            "read_timeout": 5.0,
        }


@pytest.fixture
def make_client(sim: SimulatorServer) -> Iterator[ClientFactory]:
    with ClientFactory(sim) as factory:
        yield factory


def wait_until(condition: Callable[[], bool], attempts: int = 200) -> None:
    """Poll a condition the simulator reaches asynchronously (bounded, not a timing check)."""
    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition never became true")


def port_refuses(sim: SimulatorServer) -> bool:
    try:
        socket.create_connection((sim.host, sim.port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


class FakeClock:
    """A monotonic clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
