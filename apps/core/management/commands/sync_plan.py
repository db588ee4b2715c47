"""manage.py sync_plan: mirror HWA's current plan once, or keep doing so with --loop."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections
from tqdm import tqdm

from apps.core.config_versions import watcher
from apps.core.errors import ApplicationError
from apps.core.models import SyncRun
from apps.core.services.hwa import hwa_connection_get
from apps.core.services.retention import history_prune, prune_summary
from apps.core.services.sync import plan_sync, sync_summary

# The loop prunes old history (see prune_history) about once an hour, at most this long.
PRUNE_EVERY_S = 3600.0
PRUNE_BUDGET_S = 10.0


class Command(BaseCommand):
    help = "Pull HWA's current plan into the mirror (once, or every interval with --loop)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep syncing until stopped.")
        parser.add_argument(
            "--interval", type=float, help="Seconds between runs (default: the connection's)."
        )

    def handle(self, *args: Any, loop: bool, interval: float | None, **options: Any) -> None:
        if interval is not None and interval <= 0:
            raise CommandError("--interval must be positive.")
        quiet = options["verbosity"] == 0
        if not loop:
            run = self._run_once(quiet)
            if run.status == SyncRun.Status.FAILED:
                raise CommandError(sync_summary(run))
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        next_prune = 0.0
        while not stop.is_set():
            watcher.poll()
            try:
                self._run_once(quiet=True)
            except ApplicationError as exc:  # no connection yet: wait for one
                self.stderr.write(str(exc))
            if time.monotonic() >= next_prune:
                next_prune = self._prune()
            close_old_connections()
            stop.wait(self._interval(interval))
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

    def _interval(self, given: float | None) -> float:
        if given is not None:
            return given
        connection = hwa_connection_get()
        return float(connection.sync_interval) if connection else 60.0

    def _run_once(self, quiet: bool) -> SyncRun:
        bars: dict[str, tqdm] = {}

        def progress(kind: str, count: int) -> None:
            if kind not in bars:
                bars[kind] = tqdm(desc=kind, unit=" rec", disable=quiet, leave=False)
            bars[kind].update(count)

        try:
            run = plan_sync(progress=progress)
        finally:
            for bar in bars.values():
                bar.close()
        style = self.style.SUCCESS if run.status == SyncRun.Status.OK else self.style.WARNING
        self.stdout.write(style(sync_summary(run)))
        return run
