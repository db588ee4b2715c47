"""Benchmark (a script, not a test): fetch 100,000 jobs from the simulator via the client.

    /work/main/.venv/bin/python tests/bench/hwa_simulator.py [--jobs 100000]

Prints one row per flavour and page size: pages, records and seconds for a full listing.
The first pass of each flavour also pays for rendering the jobs once (cached after).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from apps.core.hwa.client import HwaClient, HwaClientSettings
from apps.core.hwa.simulator import SimulatorPlan, SimulatorServer

PASSWORD = "bench"


def fetch_all(server: SimulatorServer, flavour: str, page_size: int) -> tuple[int, int, float]:
    settings = HwaClientSettings(
        base_url=server.base_url,
        username="resync",
        password=PASSWORD,
        flavour=flavour,
        page_size=page_size,
    )
    with HwaClient(settings) as client:
        started = time.perf_counter()
        pages = records = 0
        for page in client.iter_jobs():
            pages += 1
            records += len(page.items)
        return pages, records, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    args = parser.parse_args()
    started = time.perf_counter()
    plan = SimulatorPlan(jobs=args.jobs, seed=1)
    print(f"plan of {args.jobs} jobs generated in {time.perf_counter() - started:.2f} s")
    print(f"{'flavour':<8}{'page size':>10}{'pages':>8}{'records':>10}{'seconds':>9}")
    with SimulatorServer(plan=plan, password=PASSWORD) as server:
        for flavour in ("v1", "v2"):
            for page_size in (1000, 1000, 5000):
                pages, count, seconds = fetch_all(server, flavour, page_size)
                print(f"{flavour:<8}{page_size:>10}{pages:>8}{count:>10}{seconds:>9.2f}")


if __name__ == "__main__":
    main()
