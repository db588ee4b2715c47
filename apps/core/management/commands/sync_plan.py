"""manage.py sync_plan: mirror HWA's current plan once, or keep doing so with --loop."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from tqdm import tqdm

from apps.core.config_versions import watcher
from apps.core.errors import ApplicationError
from apps.core.models import SyncRun
from apps.core.services.hwa import hwa_connection_get
from apps.core.services.sync import plan_sync, sync_summary


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
        while not stop.is_set():
            watcher.poll()
            try:
                self._run_once(quiet=True)
            except ApplicationError as exc:  # no connection yet: wait for one
                self.stderr.write(str(exc))
            close_old_connections()
            stop.wait(self._interval(interval))
        self.stdout.write("Sync loop stopped.")

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
