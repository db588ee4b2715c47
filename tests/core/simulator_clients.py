"""What the HWA and model client tests share: clients built against a simulator."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Self, TypeVar

from apps.core.breaker import CircuitBreaker
from apps.core.upstream.client import ClientSettings, ResilientClient

C = TypeVar("C", bound=ResilientClient[Any])


class SimulatorClientFactory(Generic[C]):
    """Builds clients against the simulator and records their backoff sleeps (no test
    waits them out); leaving its `with` closes every client it built."""

    client_class: ClassVar[type[ResilientClient[Any]]]
    settings_class: ClassVar[type[ClientSettings]]

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.sleeps: list[float] = []
        self.clients: list[C] = []

    def defaults(self) -> dict[str, Any]:
        """The settings a test starts from: pointed at `sim`, short timeouts."""
        raise NotImplementedError

    def __call__(self, breaker: CircuitBreaker | None = None, **overrides: Any) -> C:
        settings = self.settings_class(**{**self.defaults(), **overrides})
        client: Any = self.client_class(settings, sleep=self.sleeps.append, breaker=breaker)
        self.clients.append(client)
        return client

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        for client in self.clients:
            client.close()
