"""Reads of the plan mirror. Views call these; each returns a queryset or plain data."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from apps.core.models import Job, JobStatusEvent, JobStream, Workstation

RECENT_EVENTS = 20


def job_list() -> QuerySet[Job]:
    """Jobs with what a list row shows, in a fixed number of queries."""
    return Job.objects.select_related("workstation", "stream")


def job_detail_list() -> QuerySet[Job]:
    """Jobs with their most recent status events (one extra query for any number)."""
    recent = JobStatusEvent.objects.order_by("-at", "-id")[:RECENT_EVENTS]
    return job_list().prefetch_related(Prefetch("events", queryset=recent, to_attr="recent_events"))


def workstation_list() -> QuerySet[Workstation]:
    return Workstation.objects.all()


def jobstream_list() -> QuerySet[JobStream]:
    return JobStream.objects.select_related("workstation").annotate(job_count=Count("jobs"))


def job_status_summary() -> dict:
    """Counts of jobs by high-level status, by internal state and by workstation."""
    by_status = _counts(Job.objects.values_list("status").annotate(n=Count("id")))
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_internal_state": _counts(
            Job.objects.values_list("internal_state").annotate(n=Count("id"))
        ),
        "by_workstation": _counts(
            Job.objects.values_list("workstation__name").annotate(n=Count("id"))
        ),
    }


def _counts(rows) -> dict[str, int]:
    # order_by() clears Meta.ordering, which would otherwise split the GROUP BY.
    return dict(sorted(rows.order_by()))
