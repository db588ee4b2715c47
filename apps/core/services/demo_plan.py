"""A realistic demo plan, generated deterministically from a seed.

Tens of workstations of every type, streams spread over the plan day, every internal
state HWA documents present, return codes and times consistent with each state. Rows are
written with bulk inserts in batches, so 100,000 jobs load in seconds, in one transaction
through the mirror's write path (which moves the plan generation once it has committed).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from apps.core.bulk import reset_sequences
from apps.core.models import Job, JobStatusEvent, JobStream, Workstation
from apps.core.services.mirror import MirrorWriter, mirror_write
from apps.core.states import CURRENT_INTERNAL_STATES

BATCH_SIZE = 5000
WORKSTATION_TYPES = (("AGENT", 10), ("FTA", 6), ("POOL", 3), ("D-POOL", 2), ("BROKER", 1))
LINK_STATES = (("LINKED", 18), ("UNLINKED", 1), ("OFFLINE", 1))
# Weights of internal states in a plan in the middle of its day.
STATE_WEIGHTS = {
    "SUCC": 40, "WAIT": 20, "READY": 6, "EXEC": 8, "HOLD": 3, "ABEND": 4, "SCHED": 5,
    "INTRO": 1, "PEND": 1, "ABENP": 1, "SUCCP": 1, "CANCL": 2, "FAIL": 1, "ERROR": 1,
    "DONE": 1, "EXTRN": 1, "FENCE": 1, "SUPPR": 2, "ADD": 1,
}  # fmt: skip
ENDED = {"SUCC", "ABEND", "FAIL", "ERROR", "DONE", "SUCCP", "ABENP", "CANCL"}
STARTED = ENDED | {"EXEC", "INTRO", "PEND"}
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


def demo_plan_load(*, jobs: int, seed: int, progress: Progress | None = None) -> DemoPlanSummary:
    """Replace the plan mirror with a generated plan of `jobs` jobs."""
    rng = random.Random(seed)
    now = timezone.now().replace(microsecond=0)
    plan_day = now.replace(hour=0, minute=0, second=0)
    tick = progress or (lambda n: None)
    with mirror_write() as mirror:
        mirror.clear()
        stations = _create_workstations(mirror, rng, jobs, now)
        streams = _create_streams(mirror, rng, stations, jobs, plan_day, now)
        job_count, event_count = _create_jobs(mirror, rng, streams, jobs, now, tick)
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


def _create_streams(mirror, rng, stations, jobs: int, plan_day: datetime, now: datetime):
    count = max(1, jobs // 20)
    rows = []
    for i in range(count):
        name = f"{rng.choice(NAME_PARTS)}_{rng.choice(NAME_PARTS)}_{i:05d}"
        sched = plan_day + timedelta(minutes=rng.randrange(0, 24 * 60, 5))
        rows.append(
            JobStream(
                hwa_id=f"STREAM{i:07d}",
                name=name,
                workstation=rng.choice(stations),
                scheduled_time=sched,
                state="EXEC" if sched <= now else "WAIT",
                updated_at=now,
            )
        )
    return mirror.create(JobStream, rows, batch_size=BATCH_SIZE)


def _states(rng: random.Random, jobs: int) -> Iterator[str]:
    # The first jobs take every documented state once, so each is always present.
    yield from CURRENT_INTERNAL_STATES[:jobs]
    names, weights = list(STATE_WEIGHTS), list(STATE_WEIGHTS.values())
    for _ in range(max(0, jobs - len(CURRENT_INTERNAL_STATES))):
        yield rng.choices(names, weights=weights)[0]


JOB_COLUMNS = (
    "id", "hwa_id", "name", "stream_id", "workstation_id", "internal_state", "return_code",
    "start", "end", "rerun_count", "updated_at",
)  # fmt: skip
EVENT_COLUMNS = ("job_id", "from_state", "to_state", "at")


def _job_row(rng: random.Random, index: int, state: str, stream, now: datetime) -> tuple:
    start = end = rc = None
    if state in STARTED:
        start = min(now, stream.scheduled_time) + timedelta(seconds=rng.randrange(0, 3600))
    if state in ENDED and start is not None:
        end = start + timedelta(seconds=rng.randrange(5, 1800))
        rc = 0 if state in {"SUCC", "SUCCP", "DONE"} else rng.choice((1, 2, 4, 8, 12, 16, 127))
    reruns = rng.choice((0, 0, 0, 0, 1, 2)) if state in ENDED else 0
    name = f"{stream.name.split('_')[0]}_J{index % 1000:03d}"
    return (
        index + 1, f"JOB{index:08d}", name, stream.id, stream.workstation_id, state, rc,
        start, end, reruns, now,
    )  # fmt: skip


def _event_rows(job: tuple) -> list[tuple]:
    job_id, state, start = job[0], job[5], job[7]
    if start is None:
        return []
    path = [("WAIT", "READY"), ("READY", "EXEC")]
    if state != "EXEC":
        path.append(("EXEC", state))
    return [(job_id, a, b, start) for a, b in path]


def _create_jobs(
    mirror: MirrorWriter, rng, streams, jobs: int, now: datetime, tick: Progress
) -> tuple[int, int]:
    created = events = 0
    states = _states(rng, jobs)
    while created < jobs:
        batch = [
            _job_row(rng, created + i, state, rng.choice(streams), now)
            for i, state in zip(range(BATCH_SIZE), states, strict=False)
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
