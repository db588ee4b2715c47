"""manage.py load_demo_plan: fill the plan mirror with a generated demo plan."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.core.models import Job
from apps.core.services.demo_plan import demo_plan_load


class Command(BaseCommand):
    help = "Replace the plan mirror with a realistic generated plan (for demos and benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--jobs", type=int, default=5000, help="How many jobs (default 5000).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--replace", action="store_true", help="Replace a plan that is already loaded."
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if a plan is already loaded."
        )

    def handle(self, *args, jobs: int, seed: int, replace: bool, if_empty: bool, **options):
        if jobs < 1 or jobs > 5_000_000:
            raise CommandError("--jobs must be between 1 and 5,000,000.")
        existing = Job.objects.count()
        if existing and if_empty:
            self.stdout.write(f"Plan already loaded ({existing:,} jobs); nothing to do.")
            return
        if existing and not replace:
            raise CommandError(f"The plan mirror holds {existing:,} jobs; pass --replace.")
        started = time.perf_counter()
        with tqdm(total=jobs, unit="job", disable=options["verbosity"] == 0) as bar:
            summary = demo_plan_load(jobs=jobs, seed=seed, progress=bar.update)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {summary.jobs:,} jobs, {summary.streams:,} streams, "
                f"{summary.workstations} workstations and {summary.events:,} events "
                f"in {elapsed:.1f} s."
            )
        )
