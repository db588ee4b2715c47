"""Reads behind the operations console (apps/core/console): problems, the day's status
timeline, progress of streams and workstations, and the sync banner.

Each read costs a fixed number of queries whatever the plan size: grouped counts (at most
states x buckets rows) and short LIMITed lists, never a row per job.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cachetools import TTLCache, cached
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from apps.core.models import HwaConnection, Job, JobAction, JobStatusEvent, JobStream, SyncRun
from apps.core.models.hwa import DEFAULT_CONNECTION
from apps.core.selectors.plan import job_counts_by_status, job_list
from apps.core.selectors.sync import FRESHNESS_TTL_S, STALE, STALE_FACTOR, plan_freshness
from apps.core.services.hwa import hwa_client_peek
from apps.core.states import ENDED_JOB_STATES, JobStatus, status_for, stream_state

# Problems first: these statuses, then the late jobs, each with its first rows.
PROBLEM_STATUSES = (JobStatus.ERROR, JobStatus.HELD, JobStatus.BLOCKED)
PROBLEM_ROWS = 8
# A job not launched yet whose stream was due longer ago than this is late.
LATE_AFTER = timedelta(minutes=15)
NOT_LAUNCHED = (JobStatus.WAITING, JobStatus.READY)
RECENT_ACTIONS = 10


@dataclass(frozen=True)
class Problem:
    """One kind of problem: how many jobs have it and the first few of them."""

    key: str
    label: str
    count: int
    jobs: list[Job]


def job_problem_list(*, counts: dict[str, int], now: datetime) -> list[Problem]:
    """Error, Held and Blocked jobs (most recently changed first), then late jobs."""
    problems = []
    for status in PROBLEM_STATUSES:
        jobs = list(job_list().filter(status=status).order_by("-updated_at", "-id")[:PROBLEM_ROWS])
        problems.append(Problem(status.value.lower(), status.value, counts[status.value], jobs))
    late = _late_jobs(now)
    rows = list(late.order_by("stream__scheduled_time", "id")[:PROBLEM_ROWS])
    problems.append(Problem("late", "Late", late.count(), rows))
    return problems


def _late_jobs(now: datetime) -> QuerySet[Job]:
    return job_list().filter(status__in=NOT_LAUNCHED, stream__scheduled_time__lt=now - LATE_AFTER)


@dataclass
class Timeline:
    """Jobs per status at the end of each hour of the plan day, up to now."""

    hours: list[datetime]
    counts: list[dict[str, int]]  # one per hour: status -> jobs


def job_status_timeline(*, now: datetime, current: dict[str, int] | None = None) -> Timeline:
    """Status counts at each hour of today (local time), rebuilt from the status events.

    Each event moves one job from one status to another (or into the plan, from ""). The
    counts at the end of an hour are today's counts with every later event undone, so one
    grouped query (hour x from-state x to-state) rebuilds the whole day exactly for the
    jobs the plan holds now.
    """
    current = dict(current if current is not None else job_counts_by_status())
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    moves = (
        JobStatusEvent.objects.filter(at__gte=day_start)
        .annotate(hour=TruncHour("at"))
        .values_list("hour", "from_state", "to_state")
        .annotate(n=Count("id"))
        .order_by()
    )
    net_after: dict[datetime, Counter[str]] = defaultdict(Counter)
    for hour, from_state, to_state, n in moves:
        net = net_after[timezone.localtime(hour)]
        net[status_for(to_state).value] += n
        if from_state:
            net[status_for(from_state).value] -= n
    hours = []
    hour = day_start
    while hour <= now:
        hours.append(hour)
        hour += timedelta(hours=1)
    counts: list[dict[str, int]] = []
    running = Counter(current)
    # Walk back from now: the count at the end of hour h is now's minus the moves after it.
    for hour in reversed(hours):
        counts.append({status: max(0, running[status]) for status in JobStatus.values})
        running.subtract(net_after.get(hour, Counter()))
    counts.reverse()
    return Timeline(hours=hours, counts=counts)


@dataclass
class Progress:
    """How far a stream or workstation is: its jobs done of total, by status."""

    total: int = 0
    done: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    states: set[str] = field(default_factory=set)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def job_progress_by(key: str, ids: Iterable[int]) -> dict[int, Progress]:
    """Progress of the jobs of each stream or workstation in `ids` (key: "stream" or
    "workstation"): one grouped query, at most ids x internal states rows."""
    rows = (
        Job.objects.filter(**{f"{key}_id__in": list(ids)})
        .values_list(f"{key}_id", "internal_state")
        .annotate(n=Count("id"))
        .order_by()
    )
    progress: dict[int, Progress] = defaultdict(Progress)
    for owner, state, n in rows:
        entry = progress[owner]
        status = status_for(state).value
        entry.total += n
        entry.by_status[status] = entry.by_status.get(status, 0) + n
        entry.states.add(state)
        if state.strip().upper() in ENDED_JOB_STATES:
            entry.done += n
    return progress


def derived_state(progress: Progress | None, *, due: bool = True) -> str:
    """The state the jobs imply (apps.core.states.stream_state: EXEC, ABEND, SUCC...)."""
    return stream_state(progress.states if progress else (), due=due)


def jobstream_rows() -> QuerySet[JobStream]:
    """Job streams with their workstation (progress comes from job_progress_by)."""
    return JobStream.objects.select_related("workstation").order_by("scheduled_time", "id")


def job_action_recent(job: Job) -> list[JobAction]:
    """The latest actions asked for on this job, newest first."""
    return list(JobAction.objects.filter(job_hwa_id=job.hwa_id).order_by("-id")[:RECENT_ACTIONS])


# --- the sync banner --------------------------------------------------------------------
OK, STALE_LEVEL, FAILING, IDLE = "ok", "stale", "failing", "idle"


@dataclass(frozen=True)
class SyncBanner:
    """How fresh the mirror is, and how worried the operator should be (level)."""

    level: str  # ok, stale (amber), failing (red), idle (no connection: nothing expected)
    synced_at: datetime | None
    status: str
    breaker: str
    message: str


def sync_banner(*, now: datetime) -> SyncBanner:
    """The freshness the API's headers give, judged against the connection's interval."""
    freshness = plan_freshness()
    interval = _sync_interval()
    breaker = _breaker_state()
    if interval is None:
        message = "No enabled HWA connection: the plan is served as loaded, nothing syncs it."
        return SyncBanner(IDLE, freshness.synced_at, freshness.status, breaker, message)
    limit = timedelta(seconds=STALE_FACTOR * interval)
    if freshness.status == SyncRun.Status.FAILED or breaker == "open":
        level, message = FAILING, _last_error() or "HWA calls are suspended (circuit open)."
    elif freshness.status == STALE or freshness.synced_at is None:
        level, message = STALE_LEVEL, "No recent successful sync."
    elif now - freshness.synced_at > limit:
        level = STALE_LEVEL
        message = f"The last successful sync is older than {STALE_FACTOR} sync intervals."
    else:
        level, message = OK, "The mirror is up to date."
    return SyncBanner(level, freshness.synced_at, freshness.status, breaker, message)


# The banner is on every overview refresh of every operator: the connection's interval is
# kept for as long as the freshness is (a second), not read per request.
_interval_memo: TTLCache = TTLCache(maxsize=1, ttl=FRESHNESS_TTL_S)


@cached(_interval_memo, lock=threading.Lock())
def _sync_interval() -> int | None:
    """The default connection's sync interval in seconds; None when none is enabled."""
    connection = HwaConnection.objects.filter(name=DEFAULT_CONNECTION, enabled=True)
    return connection.values_list("sync_interval", flat=True).first()


def sync_banner_reset() -> None:
    """Forget the remembered connection interval (tests)."""
    _interval_memo.clear()


def _breaker_state() -> str:
    client = hwa_client_peek()
    return client.breaker.snapshot().state.value if client is not None else "not used here"


def _last_error() -> str:
    runs = SyncRun.objects.filter(status=SyncRun.Status.FAILED).order_by("-started_at", "-id")
    return runs.values_list("error", flat=True).first() or ""
