"""History retention: rows older than their retention are deleted, in bounded batches.

Kept for `settings.RESYNC_RETENTION[kind]` days (RESYNC_RETENTION_DAYS, 30 by default, with
a RESYNC_RETENTION_DAYS_<KIND> override per kind):

  status_events      job status events, by when the change happened
  sync_runs          sync runs, by when the last run a row stands for finished; the latest
                     successful run is always kept (it says how fresh the mirror is)
  job_actions        job actions, by when they were asked for
  gone_workstations  workstations HWA stopped listing, by when; only once nothing refers to them
  audit_events       the audit log (apps.monitoring owns it: `audit_events_prune`)
  security_events    security events, by when last seen (apps.monitoring: `security_events_prune`)
  conversations      assistant conversations, with their messages and proposals, by when
                     they were last updated

`history_prune` runs them all; `manage.py prune_history` and the sync loop (about once an
hour) call it. Every kind is deleted through `apps.core.bulk.delete_in_batches`, so no
statement or transaction ever covers more than one batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.bulk import Deleted, delete_in_batches
from apps.core.models import Conversation, JobAction, JobStatusEvent, SyncRun, Workstation
from apps.monitoring.services import audit_events_prune, security_events_prune

BATCH = 1000
LABELS = {
    "status_events": "status events",
    "sync_runs": "sync runs",
    "job_actions": "job actions",
    "audit_events": "audit events",
    "gone_workstations": "gone workstations",
    "security_events": "security events",
    "conversations": "assistant conversations",
}

Progress = Callable[[str, int], None]


@dataclass
class PruneResult:
    """Rows deleted (or, in a dry run, that would be) per kind, and whether all were."""

    counts: dict[str, int] = field(default_factory=dict)
    complete: bool = True
    dry_run: bool = False

    def add(self, kind: str, deleted: Deleted) -> None:
        self.counts[kind] = deleted.count
        self.complete = self.complete and deleted.complete

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def retention_cutoff(kind: str, *, now: datetime | None = None) -> datetime:
    """Rows of `kind` older than this are pruned."""
    return (now or timezone.now()) - timedelta(days=settings.RESYNC_RETENTION[kind])


def plan_history_prunable(*, now: datetime | None = None) -> dict[str, QuerySet]:
    """The plan history rows past their retention, per kind (not deleted)."""
    cutoff = {kind: retention_cutoff(kind, now=now) for kind in settings.RESYNC_RETENTION}
    runs = SyncRun.objects.filter(
        Q(last_finished_at__lt=cutoff["sync_runs"])
        | Q(last_finished_at__isnull=True, started_at__lt=cutoff["sync_runs"])
    )
    last_ok = SyncRun.objects.filter(status=SyncRun.Status.OK).order_by("-started_at", "-id")
    return {
        "status_events": JobStatusEvent.objects.filter(at__lt=cutoff["status_events"]),
        "sync_runs": runs.exclude(pk__in=last_ok.values("pk")[:1]),
        "job_actions": JobAction.objects.filter(at__lt=cutoff["job_actions"]),
        "gone_workstations": Workstation.objects.filter(
            gone_at__lt=cutoff["gone_workstations"], streams__isnull=True, jobs__isnull=True
        ),
        # A conversation goes with its messages and proposals (ON DELETE CASCADE).
        "conversations": Conversation.objects.filter(updated_at__lt=cutoff["conversations"]),
    }


def plan_history_prune(
    *,
    dry_run: bool = False,
    batch_size: int = BATCH,
    progress: Progress | None = None,
    deadline: float | None = None,
) -> PruneResult:
    """Delete plan history past its retention (status events, sync runs, job actions,
    gone workstations, assistant conversations); `deadline` (time.monotonic()) stops it
    early, incomplete."""
    result = PruneResult(dry_run=dry_run)
    for kind, queryset in plan_history_prunable().items():
        if dry_run:
            result.add(kind, Deleted(queryset.count(), True))
            continue
        tick = (lambda n, kind=kind: progress(kind, n)) if progress else None
        result.add(
            kind,
            delete_in_batches(queryset, batch_size=batch_size, progress=tick, deadline=deadline),
        )
    return result


def history_prune(
    *,
    dry_run: bool = False,
    batch_size: int = BATCH,
    progress: Progress | None = None,
    deadline: float | None = None,
) -> PruneResult:
    """Prune the plan history, the audit log and security events, each past its retention."""
    result = plan_history_prune(
        dry_run=dry_run, batch_size=batch_size, progress=progress, deadline=deadline
    )
    for kind, prune in (
        ("audit_events", audit_events_prune),
        ("security_events", security_events_prune),
    ):
        tick = (lambda n, kind=kind: progress(kind, n)) if progress else None
        result.add(
            kind,
            prune(
                older_than=retention_cutoff(kind),
                dry_run=dry_run,
                batch_size=batch_size,
                progress=tick,
                deadline=deadline,
            ),
        )
    return result


def prune_summary(result: PruneResult) -> str:
    """One line saying what was pruned, for commands and logs."""
    verb = "Would prune" if result.dry_run else "Pruned"
    parts = ", ".join(f"{result.counts.get(k, 0):,} {label}" for k, label in LABELS.items())
    days = set(settings.RESYNC_RETENTION.values())
    kept = (
        f"{days.pop()} days"
        if len(days) == 1
        else ", ".join(f"{LABELS[k]} {d} days" for k, d in settings.RESYNC_RETENTION.items())
    )
    more = "" if result.complete else "; more remain (stopped at the time limit)"
    return f"{verb} {parts} past their retention ({kept}){more}."
