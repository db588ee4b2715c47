"""Fixtures: a real HWA simulator on a free port, and clients pointed at it.

No test here touches the database; they talk HTTP to the simulator on a background thread.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from apps.core.breaker import CircuitBreaker
from apps.core.hwa.client import HwaClient, HwaClientSettings
from apps.core.hwa.simulator import SimulatorPlan, SimulatorServer

PASSWORD = "sim-test-password"


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    server = SimulatorServer(plan=SimulatorPlan(jobs=300, seed=42), password=PASSWORD)
    with server:
        yield server


class ClientFactory:
    """Builds clients against the simulator and records their backoff sleeps."""

    def __init__(self, sim: SimulatorServer) -> None:
        self.sim = sim
        self.sleeps: list[float] = []
        self.clients: list[HwaClient] = []

    def __call__(self, breaker: CircuitBreaker | None = None, **overrides: Any) -> HwaClient:
        options: dict[str, Any] = {
            "base_url": self.sim.base_url,
            "username": "resync",
            "password": PASSWORD,
            "page_size": 100,
            "max_retries": 2,
            "read_timeout": 5.0,
            **overrides,
        }
        client = HwaClient(HwaClientSettings(**options), sleep=self.sleeps.append, breaker=breaker)
        self.clients.append(client)
        return client


@pytest.fixture
def make_client(sim: SimulatorServer) -> Iterator[ClientFactory]:
    factory = ClientFactory(sim)
    yield factory
    for client in factory.clients:
        client.close()


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
