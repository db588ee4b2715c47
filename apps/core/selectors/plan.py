"""Reads of the plan mirror. Views call these; each returns a queryset or plain data."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from django.db import connection, transaction
from django.db.models import CharField, Count, Func, Prefetch, QuerySet

from apps.core.models import Job, JobAction, JobStatusEvent, JobStream, Workstation
from apps.core.states import JobStatus, status_for

RECENT_EVENTS = 20


def job_list() -> QuerySet[Job]:
    """Jobs with what a list row shows, in a fixed number of queries."""
    return Job.objects.select_related("workstation", "stream")


def job_detail_list() -> QuerySet[Job]:
    """Jobs with their most recent status events (one extra query for any number)."""
    recent = JobStatusEvent.objects.order_by("-at", "-id")[:RECENT_EVENTS]
    return job_list().prefetch_related(Prefetch("events", queryset=recent, to_attr="recent_events"))


# The columns of an export row (apps.core.export.JOB_COLUMNS) and the times among them.
JOB_EXPORT_FIELDS = (
    "id",
    "hwa_id",
    "name",
    "status",
    "internal_state",
    "workstation__name",
    "stream__name",
    "stream__scheduled_time",
    "return_code",
    "start",
    "end",
    "rerun_count",
    "updated_at",
)
_EXPORT_TIMES = ("stream__scheduled_time", "start", "end", "updated_at")
_EXPORT_TIME_POSITIONS = tuple(JOB_EXPORT_FIELDS.index(name) for name in _EXPORT_TIMES)
# Rows fetched from the database cursor at a time.
EXPORT_FETCH_ROWS = 2000


class IsoUtc(Func):
    """A time as ISO 8601 text in UTC, written by PostgreSQL: psycopg parses a timestamptz
    in Python (about 25 us), three quarters of an export's cost when it did."""

    output_field = CharField()
    # Fractions of a second only when there are some, without trailing zeros (as iso_utc).
    template = (
        "rtrim(rtrim(to_char(%(expressions)s AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '0'), '.') || 'Z'"
    )


def iso_utc(value: datetime | None) -> str | None:
    """`value` as IsoUtc writes it: 2026-03-01T06:05:00Z, 2026-03-01T06:05:00.25Z."""
    if value is None:
        return None
    text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text.rstrip("0").rstrip(".") + "Z"


def job_export_rows(jobs: QuerySet[Job]) -> Iterator[tuple]:
    """The rows of `jobs` (filtered and ordered by the caller) as tuples of plain values in
    JOB_EXPORT_FIELDS order, times as ISO 8601 text in UTC, fetched EXPORT_FETCH_ROWS at a
    time: no model instances, no list of the whole plan.

    On PostgreSQL the iterator reads a server-side cursor. Outside a transaction Django
    declares it WITH HOLD, which makes PostgreSQL run the whole query and keep its result
    before the first row comes back; inside one it streams, and the export is one
    consistent snapshot of the plan however long the client takes to read it.
    """
    if connection.vendor != "postgresql":
        yield from _times_as_text(_export_values(jobs, JOB_EXPORT_FIELDS))
        return
    fields = [IsoUtc(name) if name in _EXPORT_TIMES else name for name in JOB_EXPORT_FIELDS]
    with transaction.atomic():
        yield from _export_values(jobs, fields)


def _export_values(jobs: QuerySet[Job], fields) -> Iterator[tuple]:
    return jobs.values_list(*fields).iterator(chunk_size=EXPORT_FETCH_ROWS)


def _times_as_text(rows: Iterator[tuple]) -> Iterator[tuple]:
    for row in rows:
        values = list(row)
        for i in _EXPORT_TIME_POSITIONS:
            values[i] = iso_utc(values[i])
        yield tuple(values)


def job_names_by_hwa_id(hwa_ids: Iterable[str]) -> dict[str, str]:
    """Job names by HWA id, for showing ids people can read (audit targets): those in the
    plan, then those gone from it that a job action recorded. At most two queries."""
    wanted = set(hwa_ids)
    if not wanted:
        return {}
    names = dict(Job.objects.filter(hwa_id__in=wanted).values_list("hwa_id", "name"))
    if gone := wanted - names.keys():
        actions = JobAction.objects.filter(job_hwa_id__in=gone).order_by("job_hwa_id", "-at")
        for hwa_id, name in actions.values_list("job_hwa_id", "job_name"):
            names.setdefault(hwa_id, name)
    return names


def workstation_list() -> QuerySet[Workstation]:
    return Workstation.objects.all()


def jobstream_list() -> QuerySet[JobStream]:
    return JobStream.objects.select_related("workstation").annotate(job_count=Count("jobs"))


def job_status_summary() -> dict:
    """Counts of jobs by high-level status, by internal state and by workstation.

    One grouped scan of the job table by (workstation, internal state) — at most states x
    workstations rows — folded three ways in Python instead of three scans. The status
    comes from the same mapping the database uses for Job.status.
    """
    rows = (
        Job.objects.values_list("workstation_id", "internal_state")
        .annotate(n=Count("id"))
        .order_by()  # clears Meta.ordering, which would otherwise split the GROUP BY
    )
    names = dict(Workstation.objects.values_list("id", "name"))
    by_status: Counter[str] = Counter()
    by_state: Counter[str] = Counter()
    by_workstation: Counter[str] = Counter()
    for workstation_id, state, n in rows:
        by_status[status_for(state).value] += n
        by_state[state] += n
        by_workstation[names[workstation_id]] += n
    return {
        "total": sum(by_status.values()),
        "by_status": dict(sorted(by_status.items())),
        "by_internal_state": dict(sorted(by_state.items())),
        "by_workstation": dict(sorted(by_workstation.items())),
    }


def job_counts_by_status() -> dict[str, int]:
    """Jobs per high-level status, every status present (0 when none): one grouped count by
    internal state (a few dozen rows), folded with the one mapping in apps/core/states.py."""
    counts = dict.fromkeys(JobStatus.values, 0)
    rows = Job.objects.values_list("internal_state").annotate(n=Count("id")).order_by()
    for state, n in rows:
        counts[status_for(state).value] += n
    return counts
