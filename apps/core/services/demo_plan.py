"""A realistic demo plan, generated deterministically from a seed.

Tens of workstations of every type and a plan day two thirds gone: streams spread over the
day, those whose time has come ran or are running, the others wait. Every internal state
HWA documents is present, each where it makes sense: no job started before its stream's
time, no time is later than now, ended jobs have an end and a return code, waiting jobs
have neither, and each stream's state follows its jobs (`apps.core.states.stream_state`).
Rows are written with bulk inserts in batches, so 100,000 jobs load in seconds, in one
transaction through the mirror's write path (which moves the plan generation once it has
committed).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from apps.core.bulk import reset_sequences
from apps.core.models import Job, JobStatusEvent, JobStream, Workstation
from apps.core.services.mirror import MirrorWriter, mirror_write, plan_statistics_refresh
from apps.core.states import (
    CURRENT_INTERNAL_STATES,
    ENDED_JOB_STATES,
    FAILED_JOB_STATES,
    RUNNING_JOB_STATES,
    stream_state,
)

BATCH_SIZE = 5000
WORKSTATION_TYPES = (("AGENT", 10), ("FTA", 6), ("POOL", 3), ("D-POOL", 2), ("BROKER", 1))
LINK_STATES = (("LINKED", 18), ("UNLINKED", 1), ("OFFLINE", 1))
# How far into its day the demo plan is when loaded.
PLAN_ELAPSED = timedelta(hours=16)
PLAN_DAY_MINUTES = 24 * 60
# Internal states by where a job is in its stream's timeline.
BEFORE_STREAM_TIME = (
    ("WAIT", 86), ("HOLD", 6), ("SCHED", 5), ("ADD", 1), ("FENCE", 1), ("EXTRN", 1),
)  # fmt: skip
NOT_LAUNCHED_YET = (
    ("WAIT", 55), ("READY", 25), ("HOLD", 6), ("SCHED", 5), ("FENCE", 3), ("SUPPR", 3),
    ("ADD", 1), ("EXTRN", 2),
)  # fmt: skip
RUNNING = (("EXEC", 85), ("INTRO", 5), ("PEND", 4), ("SUCCP", 3), ("ABENP", 3))
# About one ended job in a hundred failed: a stream of 20 jobs fails about one day in five.
ENDED = (
    ("SUCC", 960), ("ABEND", 8), ("FAIL", 1), ("ERROR", 1), ("CANCL", 8), ("DONE", 4),
    ("SUPPR", 18),
)  # fmt: skip
# States that mean the job ran (a start), and of those the ones that ended (an end too).
LAUNCHED = frozenset(RUNNING_JOB_STATES | ENDED_JOB_STATES) - {"SUPPR"}
SUCCESSFUL_RC = frozenset({"SUCC", "DONE"})
NAME_PARTS = (
    "PAYROLL", "BILLING", "GL", "AP", "AR", "ETL", "BACKUP", "REPORT", "CRM", "HR", "INV",
    "SHIP", "AUDIT", "DWH", "RISK", "FX", "CLEARING", "ARCHIVE", "MAINT", "SAP",
)  # fmt: skip

Progress = Callable[[int], None]


@dataclass(frozen=True)
class DemoPlanSummary:
    """What a demo load wrote."""

    workstations: int
    streams: int
    jobs: int
    events: int


@dataclass(frozen=True)
class _StreamPlan:
    """A stream's values before it is written: when it runs and what its jobs are doing."""

    name: str
    workstation: Workstation
    scheduled_time: datetime
    span: timedelta


def demo_plan_load(*, jobs: int, seed: int, progress: Progress | None = None) -> DemoPlanSummary:
    """Replace the plan mirror with a generated plan of `jobs` jobs."""
    rng = random.Random(seed)
    # The plan's clock in whole minutes: the same seed gives the same plan whenever loaded.
    now = timezone.now().replace(second=0, microsecond=0)
    tick = progress or (lambda n: None)
    with mirror_write() as mirror:
        mirror.clear()
        stations = _create_workstations(mirror, rng, jobs, now)
        plans = _plan_streams(rng, stations, jobs, now - PLAN_ELAPSED)
        job_values = _plan_jobs(rng, plans, jobs, now)
        streams = _create_streams(mirror, plans, job_values, now)
        job_count, event_count = _create_jobs(mirror, rng, streams, job_values, now, tick)
    plan_statistics_refresh()  # a whole new plan: the planner's statistics are stale
    return DemoPlanSummary(len(stations), len(streams), job_count, event_count)


def _weighted(rng: random.Random, pairs) -> str:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _create_workstations(
    mirror: MirrorWriter, rng: random.Random, jobs: int, now: datetime
) -> list[Workstation]:
    count = min(60, max(12, jobs // 2000))
    rows = [Workstation(name="MASTER", type="MASTER", link_state="LINKED", updated_at=now)]
    for i in range(1, count):
        kind = _weighted(rng, WORKSTATION_TYPES)
        rows.append(
            Workstation(
                name=f"{kind.replace('-', '')}{i:03d}",
                type=kind,
                link_state=_weighted(rng, LINK_STATES),
                updated_at=now,
            )
        )
    return mirror.create(Workstation, rows)


def _plan_streams(rng, stations, jobs: int, plan_start: datetime) -> list[_StreamPlan]:
    plans = []
    for i in range(max(1, jobs // 20)):
        name = f"{rng.choice(NAME_PARTS)}_{rng.choice(NAME_PARTS)}_{i:05d}"
        # The first stream starts with the plan, so some stream has always run.
        minutes = 0 if i == 0 else rng.randrange(0, PLAN_DAY_MINUTES, 5)
        span = timedelta(minutes=rng.randrange(10, 240))
        plans.append(
            _StreamPlan(name, rng.choice(stations), plan_start + timedelta(minutes=minutes), span)
        )
    return plans


def _states(jobs: int) -> Iterator[str | None]:
    # The first jobs take every documented state once (in the first stream, which has
    # run), so each is always present; the others get a state from their timeline.
    yield from CURRENT_INTERNAL_STATES[:jobs]
    for _ in range(max(0, jobs - len(CURRENT_INTERNAL_STATES))):
        yield None


def _plan_jobs(rng, plans: list[_StreamPlan], jobs: int, now: datetime) -> list[tuple]:
    """(stream index, state, start, end, return code, reruns) for every job."""
    values = []
    for forced in _states(jobs):
        stream = 0 if forced else rng.randrange(len(plans))
        values.append((stream, *_job_values(rng, plans[stream], now, forced)))
    return values


def _job_values(rng, stream: _StreamPlan, now: datetime, forced: str | None) -> tuple:
    planned = stream.scheduled_time + stream.span * rng.random()
    end = planned + timedelta(seconds=rng.randrange(5, 1800))
    if forced:
        state = forced
    elif stream.scheduled_time > now:
        state = _weighted(rng, BEFORE_STREAM_TIME)
    elif planned > now:
        state = _weighted(rng, NOT_LAUNCHED_YET)
    else:
        state = _weighted(rng, RUNNING if end > now else ENDED)
    if state not in LAUNCHED:
        return state, None, None, None, 0
    start = min(planned, now).replace(microsecond=0)
    if state not in ENDED_JOB_STATES:
        return state, start, None, None, 0
    rc = None
    if state in SUCCESSFUL_RC:
        rc = 0
    elif state in FAILED_JOB_STATES:
        rc = rng.choice((1, 2, 4, 8, 12, 16, 127))
    reruns = rng.choice((0, 0, 0, 0, 1, 2))
    return state, start, min(end, now).replace(microsecond=0), rc, reruns


def _create_streams(mirror: MirrorWriter, plans, job_values, now: datetime) -> list[JobStream]:
    states: list[list[str]] = [[] for _ in plans]
    for stream, state, *_ in job_values:
        states[stream].append(state)
    rows = [
        JobStream(
            hwa_id=f"STREAM{i:07d}",
            name=plan.name,
            workstation=plan.workstation,
            scheduled_time=plan.scheduled_time,
            state=stream_state(states[i], due=plan.scheduled_time <= now),
            updated_at=now,
        )
        for i, plan in enumerate(plans)
    ]
    return mirror.create(JobStream, rows, batch_size=BATCH_SIZE)


JOB_COLUMNS = (
    "id", "hwa_id", "name", "stream_id", "workstation_id", "internal_state", "return_code",
    "start", "end", "rerun_count", "updated_at",
)  # fmt: skip
EVENT_COLUMNS = ("job_id", "from_state", "to_state", "at")


def _job_row(index: int, values: tuple, streams: list[JobStream], now: datetime) -> tuple:
    stream_index, state, start, end, rc, reruns = values
    stream = streams[stream_index]
    name = f"{stream.name.split('_')[0]}_J{index % 1000:03d}"
    return (
        index + 1, f"JOB{index:08d}", name, stream.id, stream.workstation_id, state, rc,
        start, end, reruns, now,
    )  # fmt: skip


def _event_rows(job: tuple) -> list[tuple]:
    job_id, state, start, end = job[0], job[5], job[7], job[8]
    if start is None:
        return []
    path = [(job_id, "WAIT", "READY", start), (job_id, "READY", "EXEC", start)]
    if state != "EXEC":
        path.append((job_id, "EXEC", state, end or start))
    return path


def _create_jobs(
    mirror: MirrorWriter, rng, streams, job_values, now: datetime, tick: Progress
) -> tuple[int, int]:
    created = events = 0
    while created < len(job_values):
        batch = [
            _job_row(index, job_values[index], streams, now)
            for index in range(created, min(created + BATCH_SIZE, len(job_values)))
        ]
        mirror.insert_rows(Job, JOB_COLUMNS, batch)
        events += mirror.insert_rows(JobStatusEvent, EVENT_COLUMNS, _iter_events(batch))
        created += len(batch)
        tick(len(batch))
    reset_sequences(Job, JobStatusEvent)
    return created, events


def _iter_events(batch: list[tuple]) -> Iterator[tuple]:
    for job in batch:
        yield from _event_rows(job)
