"""manage.py prune_history: delete history older than its retention, in bounded batches."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.core.services.retention import BATCH, LABELS, history_prune, prune_summary


class Command(BaseCommand):
    help = (
        "Delete status events, sync runs, job actions, audit events, gone workstations and "
        "security events older than their retention (RESYNC_RETENTION_DAYS)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--batch-size", type=int, default=BATCH, help=f"Rows per DELETE (default {BATCH})."
        )

    def handle(self, *args: Any, dry_run: bool, batch_size: int, **options: Any) -> None:
        if not 1 <= batch_size <= 100_000:
            raise CommandError("--batch-size must be between 1 and 100,000.")
        bars: dict[str, tqdm] = {}

        def progress(kind: str, count: int) -> None:
            if kind not in bars:
                # disable=None: a bar only on a terminal, never in logs.
                disable = None if options["verbosity"] else True
                bars[kind] = tqdm(desc=LABELS[kind], unit=" rows", disable=disable, leave=False)
            bars[kind].update(count)

        try:
            result = history_prune(dry_run=dry_run, batch_size=batch_size, progress=progress)
        finally:
            for bar in bars.values():
                bar.close()
        self.stdout.write(self.style.SUCCESS(prune_summary(result)))
