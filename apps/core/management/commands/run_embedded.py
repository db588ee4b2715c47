"""manage.py run_embedded: the whole local demo in one command (what `make run` starts).

In order: check that the server's and the simulators' ports are free, before touching
anything (a second instance must not disturb the first); migrate; ensure the demo admin;
start the HWA simulator in this process and point the "default" HWA connection at it; start
the model simulator (port: the server's + 100) and point the assistant at it unless an
administrator configured another model; run `sync_plan --loop` and `runserver --noreload`
as child processes. Ctrl-C or SIGTERM stops them all. A child that exits on its own is a
failure: the rest stop and the command exits non-zero (so `make run` does too). On the way
out the connection (and the assistant's base URL) is pointed back where it was if it still
points at this instance's simulator, so stopping a second instance (another PORT, same
database) hands them back to the first. The server and the sync loop share one metrics
directory (prometheus_client's multiprocess mode), so /metrics shows the sync loop's HWA
calls too, and the sync loop (`--alerts`) evaluates the alert rules on the server's figures.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from apps.core.assistant.llm.simulator import LlmSimulator
from apps.core.hwa.simulator import SimulatorPlan, SimulatorServer
from apps.core.models import HwaConnection
from apps.core.models.assistant import SIMULATOR_MODEL
from apps.core.models.hwa import DEFAULT_CONNECTION
from apps.core.selectors.assistant_config import assistant_config_get
from apps.core.services.assistant_config import assistant_config_update
from apps.core.services.hwa import hwa_connection_save
from apps.monitoring.multiprocess import (
    multiprocess_dir_clean,
    multiprocess_dir_ensure,
    multiprocess_dir_release,
)
from apps.security.crypto import UnreadableSecret

SIM_USER = "resync"
HOST = "127.0.0.1"
# The fields this command sets on the connection, and puts back when it stops.
POINTED_FIELDS = ("base_url", "username", "password", "enabled", "flavour", "sync_interval")

NO_SIM_CREDENTIALS = "No HWA_SIMULATOR_PASSWORD in the local secrets (development only)."
PORT_BUSY = (
    "Port {port} on {host} is in use (another `make run`?): stop that, or choose a free "
    "port: `make run PORT={free}` (manage.py run_embedded --port {free})."
)
HWA_PORT_BUSY = (
    "The simulator's port {port} on {host} is in use: choose another with --hwa-port "
    "(0 picks a free one)."
)
LLM_PORT_BUSY = (
    "The model simulator's port {port} on {host} is in use: choose another with --llm-port "
    "(0 picks a free one)."
)
LLM_PORT_OFFSET = 100  # the model simulator listens on the web port + 100 unless told
LLM_SIM_STARTED = "Model simulator on {url} (scripted, not a language model; see docs/assistant.md)"
LLM_KEPT = "Assistant: using the configured model {model!r} at {url}, not the simulator."
CANNOT_LISTEN = "Cannot listen on {host}:{port}: {reason}."
CHILD_EXITED = "The {name} exited with code {code}; stopped the rest."
UNREADABLE_REPLACED = (
    "The stored password of HWA connection {name!r} could not be decrypted (the key that "
    "encrypted it is not in RESYNC_ENCRYPTION_KEYS); replaced it with the simulator's."
)
NOT_RESTORED = "Could not point {what} back ({error}); it still names this simulator."


def port_problem(port: int, host: str = HOST) -> str | None:
    """None if a server could listen on host:port now, else why not (errno's text)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers do: connections in TIME_WAIT from a previous run are no conflict.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return "in use" if exc.errno == errno.EADDRINUSE else exc.strerror
    return None


def _free_port_after(port: int) -> int:
    return next((p for p in range(port + 1, port + 100) if port_problem(p) is None), port + 1)


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
        parser.add_argument(
            "--llm-port",
            type=int,
            default=None,
            help=f"Model simulator port (default: --port + {LLM_PORT_OFFSET}, or a free one "
            "if that is taken; 0: free).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = settings.LOCAL_SECRETS.get("HWA_SIMULATOR_PASSWORD")
        if not password:
            raise CommandError(NO_SIM_CREDENTIALS)
        self._check_ports(options["port"], options["hwa_port"])
        llm_port = self._llm_port(options["port"], options["llm_port"])
        self.stdout.write("Migrating the database...")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("ensure_demo_admin")
        sim = self._start_simulator(options, password)
        try:
            llm_sim = self._start_llm_simulator(llm_port)
        except CommandError:
            sim.stop()
            raise
        try:
            previous = self._point_connection_at(sim, password, options["sync_interval"])
            previous_llm = self._point_assistant_at(llm_sim)
            try:
                self._serve(options["port"])
            finally:
                self._point_back(sim, previous)
                self._point_assistant_back(llm_sim, previous_llm)
        finally:
            llm_sim.stop()
            sim.stop()
            self.stdout.write("Stopped the server, the sync loop and the simulator.")

    def _check_ports(self, port: int, hwa_port: int) -> None:
        problem = port_problem(port)
        if problem == "in use":
            raise CommandError(PORT_BUSY.format(port=port, host=HOST, free=_free_port_after(port)))
        if problem:
            raise CommandError(CANNOT_LISTEN.format(host=HOST, port=port, reason=problem))
        if hwa_port and port_problem(hwa_port):
            raise CommandError(HWA_PORT_BUSY.format(port=hwa_port, host=HOST))

    def _llm_port(self, port: int, asked: int | None) -> int:
        """The model simulator's port: as asked (which must be free), else port + 100, else
        any free one (the assistant is pointed at wherever it listens)."""
        if asked is not None:
            if asked and port_problem(asked):
                raise CommandError(LLM_PORT_BUSY.format(port=asked, host=HOST))
            return asked
        default = port + LLM_PORT_OFFSET
        return default if port_problem(default) is None else 0

    def _start_llm_simulator(self, port: int) -> LlmSimulator:
        sim = LlmSimulator(host=HOST, port=port)
        try:
            sim.start()
        except OSError as exc:  # taken between the check and now
            reason = exc.strerror
            raise CommandError(CANNOT_LISTEN.format(host=HOST, port=port, reason=reason)) from None
        self.stdout.write(LLM_SIM_STARTED.format(url=sim.base_url))
        return sim

    def _point_assistant_at(self, sim: LlmSimulator) -> str | None:
        """Point the assistant at `sim` unless it names another model; returns the base URL
        to put back on exit (None: nothing to put back)."""
        config = assistant_config_get()
        if config.pk is not None and config.model != SIMULATOR_MODEL:
            self.stdout.write(LLM_KEPT.format(model=config.model, url=config.base_url))
            return None
        previous = config.base_url if config.pk is not None else None
        assistant_config_update(
            actor=None,
            source="command",
            values={"base_url": sim.base_url},
            api_key="" if config.api_key else None,  # the simulator needs none
        )
        return previous

    def _point_assistant_back(self, sim: LlmSimulator, previous: str | None) -> None:
        try:
            config = assistant_config_get()
            if previous is None or config.base_url != sim.base_url:
                return  # nothing to go back to, or another instance took it over
            assistant_config_update(actor=None, source="command", values={"base_url": previous})
        except DatabaseError as exc:
            self.stderr.write(NOT_RESTORED.format(what="the assistant", error=exc))

    def _start_simulator(self, options: dict[str, Any], password: str) -> SimulatorServer:
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
        try:
            sim.start()
        except OSError as exc:  # taken between the check and now
            raise CommandError(
                CANNOT_LISTEN.format(host=HOST, port=options["hwa_port"], reason=exc.strerror)
            ) from None
        self.stdout.write(f"HWA simulator on {sim.base_url} ({len(plan.jobs)} jobs)")
        return sim

    def _point_connection_at(
        self, sim: SimulatorServer, password: str, interval: int
    ) -> dict[str, Any] | None:
        """Point the "default" connection at `sim`; returns the values to put back on exit
        (None: a new row, or one whose password no key opens, which is not worth restoring)."""
        connection = HwaConnection.objects.filter(name=DEFAULT_CONNECTION).first()
        previous = None
        if connection is not None and isinstance(connection.password, UnreadableSecret):
            self.stderr.write(UNREADABLE_REPLACED.format(name=connection.name))
        elif connection is not None:
            previous = {field: getattr(connection, field) for field in POINTED_FIELDS}
        connection = connection or HwaConnection(name=DEFAULT_CONNECTION)
        connection.base_url, connection.username = sim.base_url, SIM_USER
        connection.enabled, connection.flavour, connection.sync_interval = True, "v1", interval
        hwa_connection_save(connection=connection, actor=None, source="command", password=password)
        return previous

    def _point_back(self, sim: SimulatorServer, previous: dict[str, Any] | None) -> None:
        try:
            connection = HwaConnection.objects.filter(name=DEFAULT_CONNECTION).first()
            if previous is None or connection is None or connection.base_url != sim.base_url:
                return  # nothing to go back to, or another instance took it over
            password = previous.pop("password")
            for field, value in previous.items():
                setattr(connection, field, value)
            hwa_connection_save(
                connection=connection, actor=None, source="command", password=password
            )
        except DatabaseError as exc:
            self.stderr.write(NOT_RESTORED.format(what="the HWA connection", error=exc))

    def _serve(self, port: int) -> None:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        # The server's /metrics also shows the sync loop's HWA calls: both write their
        # metrics to one directory (prometheus_client's multiprocess mode), emptied now.
        env = dict(os.environ)
        multiprocess_dir_clean(multiprocess_dir_ensure(env))
        children = {
            "sync loop": subprocess.Popen(  # noqa: S603
                [*manage, "sync_plan", "--loop", "--alerts"], env=env
            ),
            "web server": subprocess.Popen(  # noqa: S603
                [*manage, "runserver", f"{HOST}:{port}", "--noreload"], env=env
            ),
        }
        try:
            exited = self._wait(children)
        finally:
            self._stop(list(children.values()))
            multiprocess_dir_release(env)
        if exited:
            name, code = exited
            raise CommandError(CHILD_EXITED.format(name=name, code=code))

    def _wait(self, children: dict[str, subprocess.Popen]) -> tuple[str, int] | None:
        """Block until Ctrl-C/SIGTERM (None) or until a child exits on its own (its name, code).

        Ctrl-C reaches the children too, and the sync loop exits at once: a handler (not
        KeyboardInterrupt, which a shell's background job never gets) marks the stop first,
        so that exit is not taken for a failure.
        """
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.wait(0.5):
            for name, child in children.items():
                if child.poll() is not None and not stop.is_set():
                    return name, child.returncode
        return None

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
