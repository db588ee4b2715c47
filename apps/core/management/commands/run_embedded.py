"""manage.py run_embedded: the simulator, a sync loop and the server together, for a demo.

The HWA simulator runs in this process (port from --hwa-port, password from the local
secrets), the "default" HWA connection is pointed at it, then `sync_plan --loop` and
`runserver --noreload` run as child processes. Ctrl-C or SIGTERM stops all three.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.hwa.simulator import SimulatorPlan, SimulatorServer
from apps.core.models import HwaConnection
from apps.core.models.hwa import DEFAULT_CONNECTION
from apps.core.services.hwa import hwa_connection_save

SIM_USER = "resync"


class Command(BaseCommand):
    help = "Run the HWA simulator, a plan sync loop and the web server together (Ctrl-C stops)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Web server port.")
        parser.add_argument("--hwa-port", type=int, default=0, help="Simulator port (0: free).")
        parser.add_argument("--jobs", type=int, default=5000, help="Jobs in the simulated plan.")
        parser.add_argument(
            "--tick-seconds",
            type=float,
            default=5.0,
            help="Seconds between simulated plan changes.",
        )
        parser.add_argument("--sync-interval", type=int, default=5, help="Seconds between syncs.")

    def handle(self, *args: Any, **options: Any) -> None:
        password = settings.LOCAL_SECRETS.get("HWA_SIMULATOR_PASSWORD")
        if not password:
            raise CommandError("No HWA_SIMULATOR_PASSWORD in the local secrets (development only).")
        plan = SimulatorPlan(
            jobs=options["jobs"],
            seed=1,
            tick_seconds=options["tick_seconds"],
            wall_clock=True,
        )
        sim = SimulatorServer(
            plan=plan,
            port=options["hwa_port"],
            username=SIM_USER,
            password=password,
            auto_tick=True,
        )
        sim.start()
        self._point_connection_at(sim, password, options["sync_interval"])
        self.stdout.write(f"HWA simulator on {sim.base_url} ({len(plan.jobs)} jobs)")
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        children = [
            subprocess.Popen([*manage, "sync_plan", "--loop"]),  # noqa: S603
            subprocess.Popen(  # noqa: S603
                [*manage, "runserver", f"127.0.0.1:{options['port']}", "--noreload"]
            ),
        ]
        try:
            self._wait(children)
        finally:
            self._stop(children)
            sim.stop()
            self.stdout.write("Stopped the server, the sync loop and the simulator.")

    def _point_connection_at(self, sim: SimulatorServer, password: str, interval: int) -> None:
        connection = HwaConnection.objects.filter(name=DEFAULT_CONNECTION).first()
        connection = connection or HwaConnection(name=DEFAULT_CONNECTION)
        connection.base_url, connection.username = sim.base_url, SIM_USER
        connection.enabled, connection.flavour, connection.sync_interval = True, "v1", interval
        hwa_connection_save(connection=connection, actor=None, source="command", password=password)

    def _wait(self, children: list[subprocess.Popen]) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                if any(child.poll() is not None for child in children):
                    self.stderr.write("A child process exited; stopping the rest.")
                    return
        except KeyboardInterrupt:
            pass

    def _stop(self, children: list[subprocess.Popen]) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
