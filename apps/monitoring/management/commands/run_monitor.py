"""manage.py run_monitor: evaluate the alert rules and send notifications, every interval.

Any number may run (on one host or several): each rule's evaluation and each notification
attempt is claimed with a conditional UPDATE, so none is done twice (apps/monitoring/alerts).
Output: a summary line per pass that opened, resolved or sent something; rules that could
not be evaluated on stderr. `--once` runs one pass and exits 1 if a rule could not be
evaluated (cron).
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections

from apps.core.config_versions import watcher
from apps.monitoring.alerts.services import PassSummary, alerts_evaluate
from apps.monitoring.metrics.live import multiprocess

OWN_METRICS_ONLY = (
    "PROMETHEUS_MULTIPROC_DIR is not set: rules on requests, the cache, pools and the HWA "
    "breaker see this process's figures only. Give run_monitor the server's directory "
    "(README: Alerts)."
)
PASS_FAILED = "Alert evaluation failed: {error}"  # noqa: S105 (a message)
RULES_FAILED = "{count} alert rules could not be evaluated"


class Command(BaseCommand):
    help = "Evaluate alert rules and send notifications (every interval, or --once)."
    _reported: set[str] = set()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument(
            "--interval",
            type=float,
            help="Seconds between passes, and between evaluations of a rule "
            "(default: RESYNC_ALERT_INTERVAL).",
        )

    def handle(self, *args: Any, once: bool, interval: float | None, **options: Any) -> None:
        interval = settings.RESYNC_ALERT_INTERVAL if interval is None else interval
        if interval <= 0:
            raise CommandError("--interval must be positive.")
        if not multiprocess():
            self.stderr.write(OWN_METRICS_ONLY)
        if once:
            summary = self._pass(interval)
            self.stdout.write(summary.line())
            if summary.errors:
                raise CommandError(RULES_FAILED.format(count=len(summary.errors)))
            return
        self._loop(interval)

    def _pass(self, interval: float) -> PassSummary:
        summary = alerts_evaluate(interval_s=interval)
        # A rule that keeps failing the same way is reported once, not every pass.
        for error in summary.errors:
            if error not in self._reported:
                self.stderr.write(error)
        self._reported = set(summary.errors)
        return summary

    def _loop(self, interval: float) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        self.stdout.write(f"Evaluating alert rules every {interval:g} s (Ctrl-C stops).")
        while not stop.is_set():
            watcher.poll()
            try:
                summary = self._pass(interval)
            except DatabaseError as exc:  # the database is down: try again next interval
                self.stderr.write(PASS_FAILED.format(error=exc))
            else:
                if summary.eventful:
                    self.stdout.write(summary.line())
            close_old_connections()
            stop.wait(interval)
        self.stdout.write("Monitor stopped.")
