"""manage.py run_hwa_simulator: serve the bundled HWA simulator until Ctrl-C or SIGTERM."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.hwa.simulator import Faults, SimulatorPlan, SimulatorServer
from apps.core.management.serving import simulator_start, wait_for_stop

MISSING_CREDENTIALS = (
    "No simulator password: pass --password, or run in development where settings "
    "generate HWA_SIMULATOR_PASSWORD into the local secrets file"
)


class Command(BaseCommand):
    help = "Serve the bundled HWA simulator (v1 and v2 plan calls) over HTTP."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=31116)
        parser.add_argument("--jobs", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--username", default="resync")
        parser.add_argument("--password", help="default: HWA_SIMULATOR_PASSWORD local secret")
        parser.add_argument("--change-rate", type=float, default=0.01, help="jobs per tick")
        parser.add_argument("--tick-seconds", type=float, default=10.0, help="0: no auto tick")
        parser.add_argument(
            "--mid-day",
            action="store_true",
            help="A fixed past plan at noon instead of today's on the wall clock "
            "(benchmarks: the same work to do at any hour).",
        )
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument("--error-rate", type=float, default=0.0)
        parser.add_argument("--malformed-json", action="store_true")
        parser.add_argument("--wrong-credentials", action="store_true")
        parser.add_argument("--refuse-connections", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        password, source = self._password(options["password"])
        faults = Faults()
        try:
            faults.update(
                {
                    "latency_ms": options["latency_ms"],
                    "error_rate": options["error_rate"],
                    "malformed_json": options["malformed_json"],
                    "wrong_credentials": options["wrong_credentials"],
                    "refuse_connections": options["refuse_connections"],
                }
            )
            plan = SimulatorPlan(
                jobs=options["jobs"],
                seed=options["seed"],
                change_rate=options["change_rate"],
                tick_seconds=options["tick_seconds"],
                # Today's plan on the wall clock: no time it reports is in the future.
                wall_clock=not options["mid_day"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        server = SimulatorServer(
            plan=plan,
            host=options["host"],
            port=options["port"],
            username=options["username"],
            password=password,
            faults=faults,
            auto_tick=True,
        )
        simulator_start(server)
        self.stdout.write(
            f"HWA simulator on {server.base_url} ({len(plan.jobs)} jobs, seed {plan.seed}); "
            f"user {options['username']!r}, password {source}"
        )
        wait_for_stop()
        server.stop()
        self.stdout.write(f"Stopped after {plan.ticks} ticks; {server.request_count()} requests.")

    def _password(self, given: str | None) -> tuple[str, str]:
        if given:
            return given, "from --password"
        secret = getattr(settings, "LOCAL_SECRETS", {}).get("HWA_SIMULATOR_PASSWORD")
        if not secret:
            raise CommandError(MISSING_CREDENTIALS)
        return secret, "HWA_SIMULATOR_PASSWORD from the local secrets file"
