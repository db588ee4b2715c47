"""The bundled HWA simulator: a real HTTP server with a plan that changes over time.

with SimulatorServer(plan=SimulatorPlan(jobs=1000, seed=7)) as sim:
    client = HwaClient(HwaClientSettings(base_url=sim.base_url, ...))
"""

from __future__ import annotations

from apps.core.hwa.simulator.plan import ALL_STATES, SimulatorPlan
from apps.core.hwa.simulator.server import Faults, SimulatorServer

__all__ = ["ALL_STATES", "Faults", "SimulatorPlan", "SimulatorServer"]
