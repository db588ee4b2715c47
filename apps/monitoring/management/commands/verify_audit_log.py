"""manage.py verify_audit_log: walk the audit log's hash chain; non-zero exit if it is broken."""

from __future__ import annotations

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.monitoring.chain import ChainReport, chain_verify

INTACT = "Audit log intact: {rows:,} rows{span}{start}; head {head}."
EMPTY = "Audit log intact: no rows{start}."
BROKEN = "Audit log broken after {rows:,} good rows: {problem}"
BAD_HEAD = "--head must be ID:HASH as an earlier run printed it (e.g. 42:3f1c...), not {given!r}."
_HEAD = re.compile(r"^(\d+):([0-9a-f]{64})$")


def _start(report: ChainReport) -> str:
    if report.checkpoint_id is None:
        return ""
    return f", after the pruning checkpoint at row {report.checkpoint_id}"


def report_line(report: ChainReport) -> str:
    """One line saying what the walk found."""
    if not report.intact:
        return BROKEN.format(rows=report.rows, problem=report.problem)
    if not report.rows:
        return EMPTY.format(start=_start(report))
    return INTACT.format(
        rows=report.rows,
        span=f" (ids {report.first_id} to {report.head_id})",
        start=_start(report),
        head=f"{report.head_id}:{report.head_hash}",
    )


def _known_head(given: str | None) -> tuple[int, str] | None:
    if given is None:
        return None
    match = _HEAD.match(given.strip())
    if match is None:
        raise CommandError(BAD_HEAD.format(given=given))
    return int(match[1]), match[2]


class Command(BaseCommand):
    help = "Check the audit log's hash chain and name the first row edited, deleted or inserted."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=2000, help="Rows read per query (memory bound)."
        )
        parser.add_argument(
            "--head",
            help="ID:HASH, the head an earlier run printed: that row must still be there.",
        )

    def handle(self, *args: Any, batch_size: int, head: str | None, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        report = chain_verify(batch=batch_size, known_head=_known_head(head))
        if not report.intact:
            raise CommandError(report_line(report))
        self.stdout.write(self.style.SUCCESS(report_line(report)))
