"""manage.py health: the health report on the terminal, for cron and container probes."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.monitoring.selectors import UNHEALTHY, health_report, readiness_report

UNHEALTHY_EXIT = "unhealthy: {components}"


class Command(BaseCommand):
    help = "Check Resync's dependencies as GET /api/v1/health/ does; exit 1 when unhealthy."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--ready", action="store_true", help="Only the readiness checks (health/ready/)."
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print the report as JSON."
        )

    def handle(self, *args: Any, ready: bool, as_json: bool, **options: Any) -> None:
        report = readiness_report() if ready else health_report()
        if as_json:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self._table(report)
        failing = [n for n, c in report["components"].items() if c["status"] == UNHEALTHY]
        if failing:
            raise CommandError(UNHEALTHY_EXIT.format(components=", ".join(failing)))

    def _table(self, report: dict) -> None:
        style = {"healthy": self.style.SUCCESS, "degraded": self.style.WARNING}
        paint = style.get(report["status"], self.style.ERROR)
        self.stdout.write(paint(report["status"]))
        for name, component in report["components"].items():
            line = f"  {name:<16}{component['status']:<11}{component['response_time_ms']:>9.1f} ms"
            detail = component["detail"]
            self.stdout.write(f"{line}  {detail}" if detail else line)
