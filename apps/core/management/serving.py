"""What the run_*_simulator commands share: start a simulator, then serve until stopped."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import CommandError

from apps.core.upstream.simulator import Simulator


def simulator_start(sim: Simulator) -> None:
    """Start `sim`, or end the command naming the address it cannot listen on."""
    host, port = sim.host, sim.port  # as asked: start() replaces port 0 with the one bound
    try:
        sim.start()
    except OSError as exc:
        raise CommandError(f"Cannot listen on {host}:{port}: {exc}") from None


def wait_for_stop() -> None:
    """Block until Ctrl-C or SIGTERM (a service manager's stop)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
