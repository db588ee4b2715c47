"""manage.py run_llm_simulator: serve the bundled model simulator until Ctrl-C or SIGTERM."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.assistant.llm.simulator import DEFAULT_MODEL, Faults, LlmSimulator
from apps.core.management.serving import simulator_start, wait_for_stop


class Command(BaseCommand):
    help = "Serve the bundled OpenAI-compatible model simulator (scripted, not a real model)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--model", default=DEFAULT_MODEL, help="The model id it answers to.")
        parser.add_argument(
            "--api-key", default="", help="Require this Bearer key (default: none)."
        )
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument("--error-status", type=int, default=0, help="Fail every call so.")
        parser.add_argument("--malformed-json", action="store_true")
        parser.add_argument("--bad-arguments", action="store_true")
        parser.add_argument("--unknown-tool", action="store_true")
        parser.add_argument(
            "--not-gullible",
            action="store_true",
            help="Ignore instructions planted in tool results (default: obey them).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        faults = Faults()
        try:
            faults.update(
                {
                    "latency_ms": options["latency_ms"],
                    "error_status": options["error_status"],
                    "malformed_json": options["malformed_json"],
                    "bad_arguments": options["bad_arguments"],
                    "unknown_tool": options["unknown_tool"],
                    "gullible": not options["not_gullible"],
                }
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        sim = LlmSimulator(
            host=options["host"],
            port=options["port"],
            model=options["model"],
            api_key=options["api_key"],
            faults=faults,
        )
        simulator_start(sim)
        self.stdout.write(f"Model simulator on {sim.base_url} (model {sim.model!r})")
        wait_for_stop()
        sim.stop()
        self.stdout.write(f"Stopped after {sim.request_count()} requests.")
