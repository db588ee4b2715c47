"""manage.py sync_plan: mirror HWA's current plan once, or keep doing so with --loop.

Output: one summary line per run (stdout; a failed run on stderr, once). Progress bars
only when stderr is a terminal, so redirected output holds no escape codes. While it works
the process beats the sync heartbeat (services/heartbeat.py), so health can tell a run in
progress from one whose process was killed, and readiness that a sync loop is alive.
`--loop --alerts` also runs an alert evaluation pass after each run (run_embedded does, so
`make run` needs no `run_monitor`).
"""

from __future__ import annotations

import signal
import threading
import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import DatabaseError, close_old_connections
from tqdm import tqdm

from apps.core.config_versions import watcher
from apps.core.errors import ApplicationError
from apps.core.models import SyncRun
from apps.core.services.heartbeat import sync_heartbeat
from apps.core.services.hwa import hwa_connection_get
from apps.core.services.retention import history_prune, prune_summary
from apps.core.services.sync import plan_sync, sync_summary

# The loop prunes old history (see prune_history) about once an hour, at most this long.
PRUNE_EVERY_S = 3600.0
PRUNE_BUDGET_S = 10.0


class _Unstyled:
    """A command's output stream as tqdm wants it: text written as is (no style, no newline)."""

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        self.stream.write(text, style_func=lambda x: x, ending="")

    def flush(self) -> None:
        self.stream.flush()

    def fileno(self) -> int:  # tqdm asks the terminal's width through it
        return self.stream.fileno()


class Command(BaseCommand):
    help = "Pull HWA's current plan into the mirror (once, or every interval with --loop)."
    # Like the servers, the sync worker runs no system checks at start (README: Production,
    # step 5 runs them): they load the URLconf and every template tag library (~13 MB, ~380
    # modules), which a process that serves nothing would keep for its whole life.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep syncing until stopped.")
        parser.add_argument(
            "--interval", type=float, help="Seconds between runs (default: the connection's)."
        )
        parser.add_argument(
            "--alerts",
            action="store_true",
            help="With --loop: also evaluate alert rules and notify after each run.",
        )

    def handle(self, *args: Any, loop: bool, interval: float | None, **options: Any) -> None:
        if interval is not None and interval <= 0:
            raise CommandError("--interval must be positive.")
        if options["alerts"] and not loop:
            raise CommandError("--alerts goes with --loop.")
        with sync_heartbeat(loop=loop):
            if loop:
                self._loop(interval, alerts=options["alerts"])
            else:
                self._once(options["verbosity"])

    def _once(self, verbosity: int) -> None:
        show_progress = verbosity > 0 and self.stderr.isatty()
        try:
            run = self._run_once(show_progress)
        except ApplicationError as exc:  # no usable connection: nothing was attempted
            raise CommandError(str(exc)) from None
        if run.status == SyncRun.Status.FAILED:
            raise CommandError(sync_summary(run))
        self._report(run)

    def _loop(self, interval: float | None, *, alerts: bool = False) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        next_prune = 0.0
        while not stop.is_set():
            watcher.poll()
            every = self._interval(interval)
            try:
                # Other loops (other hosts) may sync too: one run per interval between them.
                self._report(plan_sync(every=timedelta(seconds=every)))
            except ApplicationError as exc:  # no connection yet: wait for one
                self.stderr.write(str(exc))
            if time.monotonic() >= next_prune:
                next_prune = self._prune()
            if alerts:
                self._evaluate_alerts()
            close_old_connections()
            stop.wait(every)
        self.stdout.write("Sync loop stopped.")

    def _prune(self) -> float:
        """Prune old history for at most PRUNE_BUDGET_S; returns when to prune next."""
        now = time.monotonic()
        try:
            result = history_prune(deadline=now + PRUNE_BUDGET_S)
        except DatabaseError as exc:  # pruning must never stop the sync loop
            self.stderr.write(f"Pruning history failed: {exc}")
            return now + PRUNE_EVERY_S
        if result.total:
            self.stdout.write(prune_summary(result))
        # A backlog left over goes on after the next sync, a budget at a time.
        return now + PRUNE_EVERY_S if result.complete else 0.0

    def _evaluate_alerts(self) -> None:
        """One alert evaluation pass (only the rules that are due: cheap when none is)."""
        from apps.monitoring.alerts.services import alerts_evaluate

        try:
            summary = alerts_evaluate()
        except Exception as exc:  # alerting must never stop the sync loop
            self.stderr.write(f"Alert evaluation failed: {exc}")
            return
        if summary.opened or summary.resolved or summary.sent or summary.failed:
            self.stdout.write(summary.line())

    def _interval(self, given: float | None) -> float:
        if given is not None:
            return given
        connection = hwa_connection_get()
        return float(connection.sync_interval) if connection else 60.0

    def _report(self, run: SyncRun) -> None:
        if run.status == SyncRun.Status.FAILED:
            self.stderr.write(sync_summary(run))
        elif run.status == SyncRun.Status.SKIPPED:
            self.stdout.write(self.style.WARNING(sync_summary(run)))
        else:
            self.stdout.write(self.style.SUCCESS(sync_summary(run)))

    def _run_once(self, show_progress: bool) -> SyncRun:
        if not show_progress:
            return plan_sync()
        bars: dict[str, tqdm] = {}

        def progress(kind: str, count: int) -> None:
            if kind not in bars:
                # Draw every page: tqdm's default throttling left a fast run's bars short.
                bars[kind] = tqdm(
                    desc=kind,
                    unit=" rec",
                    leave=False,
                    mininterval=0,
                    miniters=1,
                    file=_Unstyled(self.stderr),
                )
            bars[kind].update(count)

        try:
            return plan_sync(progress=progress)
        finally:
            for bar in bars.values():
                bar.close()
