"""The simulated HWA plan: workstations, job streams and jobs that change over time.

It behaves like one day of a real HWA plan. The plan covers PLAN_DAY from `start_time`;
each job stream has a start time in that day, and the simulated clock `now` (by default
the middle of the day; the wall clock with `wall_clock=True`, as run_hwa_simulator runs it)
splits the plan into streams that ran, streams that are running and streams that wait for
their time. Jobs only move forward: WAIT -> READY (once their stream's time has come) ->
EXEC -> SUCC | ABEND; only a rerun (an operator's, or the simulated operator's, who reruns
an abended job once) sends a job back to WAIT, and the job's rerun count says so. No time
is ever later than `now`. A job stream's state follows its jobs
(`apps.core.states.stream_state`). When the clock passes the end of the day, the next plan
day begins: finished streams are replaced by the next day's instances (new ids) and
unfinished ones are carried forward, as HWA does.

Each tick advances the clock (by `tick_seconds`, or to the wall clock's time) and moves at
most `change_rate` x jobs one step, chosen among the jobs that can move now: the jobs of
streams whose time has come, a running job once its run's duration has passed. A sprinkling
of every internal state of docs/hwa-api.md (and older ones such as SUSP) is present from the
start and never moves, so a mirror shows them all.

Deterministic from a seed, a start time and a clock: the same inputs and the same number
of ticks give the same plan. Rendering is cached per job and per flavour, and invalidated
only when that job changes: serving a page costs the page, never the plan (100,000 jobs
must page out in seconds).
"""

from __future__ import annotations

import functools
import json
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apps.core.states import ENDED_JOB_STATES, FAILED_JOB_STATES, stream_state

CURRENT_STATES = (
    "ABEND",
    "ABENP",
    "ADD",
    "CANCL",
    "DONE",
    "ERROR",
    "EXEC",
    "EXTRN",
    "FAIL",
    "FENCE",
    "HOLD",
    "INTRO",
    "PEND",
    "READY",
    "SCHED",
    "SUCC",
    "SUCCP",
    "SUPPR",
    "WAIT",
)
OLDER_STATES = ("BOUND", "CANCP", "RJOB", "SUSP", "USER", "WAITD")
ALL_STATES = CURRENT_STATES + OLDER_STATES

WORKSTATION_TYPES = ("FTA", "AGENT", "POOL", "D-POOL", "BROKER")
_TYPE_PREFIX = {
    "MASTER": "MDM",
    "FTA": "FTA",
    "AGENT": "AGT",
    "POOL": "POOL",
    "D-POOL": "DPOOL",
    "BROKER": "BRK",
}

# Only for the simulator's rendering of a plausible high-level status; Resync derives its
# own high-level status from the internal state.
_HIGH_LEVEL = {
    "WAIT": "WAITING",
    "PEND": "WAITING",
    "INTRO": "WAITING",
    "SCHED": "WAITING",
    "ADD": "WAITING",
    "EXTRN": "WAITING",
    "READY": "READY",
    "EXEC": "RUNNING",
    "SUCC": "SUCCESSFUL",
    "SUCCP": "SUCCESSFUL",
    "DONE": "SUCCESSFUL",
    "ABEND": "ERROR",
    "ABENP": "ERROR",
    "FAIL": "ERROR",
    "ERROR": "ERROR",
    "CANCL": "CANCELED",
    "HOLD": "HELD",
    "SUPPR": "SUPPRESS",
    "FENCE": "BLOCKED",
}

# Allowed starting states for each action; anything else is refused with a 409.
RERUNNABLE = frozenset({"ABEND", "FAIL", "SUCC", "ERROR", "CANCL", "DONE"})
HOLDABLE = frozenset({"WAIT", "READY", "PEND", "INTRO", "SCHED", "ADD"})
NOT_CANCELLABLE = frozenset({"SUCC", "CANCL", "EXEC"})
ACTIONS = ("rerun", "hold", "release", "cancel")

_DUMPS = json.JSONEncoder(separators=(",", ":")).encode


class ActionRefused(Exception):
    """The job cannot take this action in its current state (HTTP 409)."""


class UnknownJob(KeyError):
    """No job has this id (HTTP 404)."""


class UnknownAction(ValueError):
    """Not one of rerun, hold, release, cancel (HTTP 400)."""


# Plan times repeat a lot (streams start on whole minutes, ticks share one clock), so the
# formatted strings are cached: formatting dominated the cost of rendering 100,000 jobs.
@functools.lru_cache(maxsize=65536)
def _v1_time(value: datetime | None) -> str | None:
    # HWA's v1 samples show ISO times with a numeric offset and milliseconds.
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@functools.lru_cache(maxsize=65536)
def _v2_time(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class SimWorkstation:
    """A simulated workstation."""

    hwa_id: str
    name: str
    type: str
    link_state: str


@dataclass(slots=True, eq=False)
class SimStream:
    """A simulated job stream instance; its state is kept in step with its jobs."""

    hwa_id: str
    name: str
    workstation: str
    scheduled_time: datetime
    internal_state: str = "HOLD"
    span: timedelta = timedelta(hours=1)
    jobs: list[SimJob] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class SimJob:
    """A simulated job instance; `v1`/`v2` cache its rendered JSON until it changes."""

    hwa_id: str
    name: str
    stream: SimStream
    workstation: str
    state: str
    return_code: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    rerun_count: int = 0
    held_from: str | None = None
    duration: timedelta = timedelta(minutes=5)  # how long a run takes
    v1: bytes | None = None
    v2: bytes | None = None

    def touch(self) -> None:
        self.v1 = self.v2 = None

    def clear_run(self) -> None:
        """Forget the last run's times and return code (a rerun, a new plan day)."""
        self.start = self.end = self.return_code = None


PLAN_DAY = timedelta(days=1)
JOBS_PER_STREAM = 10
MAX_RUN_S = 2 * 3600  # job runs take 20 s to 2 h, 10 minutes on average
# A job run fails this often; half the failures of the past were rerun successfully.
FAILURE_RATE = 0.03
# The simulated operator reruns an abended job this many times at most, so a plan settles.
AUTO_RERUNS = 1
# States the simulator moves jobs through; every other state is sprinkled and stays put.
FORWARD = {"WAIT": "READY", "READY": "EXEC"}
# Sprinkled states that imply no run (yet): such a job has no start, end or return code.
_NOT_LAUNCHED = frozenset(
    ("WAIT", "READY", "HOLD", "ADD", "SCHED", "FENCE", "EXTRN", "WAITD", "SUSP", "CANCP", "SUPPR")
)


def _wall_clock() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class SimulatorPlan:
    """The whole simulated plan, safe to read and change from many threads."""

    def __init__(
        self,
        *,
        jobs: int = 1000,
        seed: int = 1,
        change_rate: float = 0.01,
        tick_seconds: float = 10.0,
        start_time: datetime | None = None,
        now: datetime | None = None,
        wall_clock: bool = False,
    ) -> None:
        if jobs < 0 or not 0 <= change_rate <= 1 or tick_seconds < 0:
            raise ValueError("jobs >= 0, 0 <= change_rate <= 1 and tick_seconds >= 0")
        self.seed = seed
        self.change_rate = change_rate
        self.tick_seconds = tick_seconds
        # On the wall clock (run_hwa_simulator), the plan is today's (UTC) and a tick reads
        # the clock, so a forced tick cannot move the plan into the future.
        self.clock = _wall_clock if wall_clock else None
        if self.clock is not None:
            now = self.clock()
            start_time = now.replace(hour=0, minute=0, second=0)
        self.start_time = start_time or datetime(2025, 1, 1, tzinfo=UTC)
        self.now = now or self.start_time + PLAN_DAY / 2
        if not self.start_time <= self.now < self.start_time + PLAN_DAY:
            raise ValueError("now must fall within the plan day that begins at start_time")
        self.ticks = 0
        self._lock = threading.RLock()
        # Two generators: `_shape` draws the plan's structure (ids, streams, times), `_rng`
        # what depends on the clock (outcomes, moves), so a restart later the same day
        # serves the same ids.
        self._shape = random.Random(seed)
        self._rng = random.Random(seed + 1)
        self.plan_id = str(self._uuid())
        self.workstations = self._make_workstations(jobs)
        self.streams: list[SimStream] = []
        self.jobs: list[SimJob] = self._make_jobs(jobs)
        self._by_id = {job.hwa_id: job for job in self.jobs}

    # --- generation ---------------------------------------------------------------------
    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._shape.getrandbits(128), version=4)

    def _make_workstations(self, jobs: int) -> list[SimWorkstation]:
        count = min(60, max(12, jobs // 1000))
        result = [SimWorkstation(str(self._uuid()), "MDM", "MASTER", "LINKED")]
        for n in range(1, count):
            kind = WORKSTATION_TYPES[(n - 1) % len(WORKSTATION_TYPES)]
            # Positions 1 and 2 guarantee every link state is present at least once.
            link = {1: "UNLINKED", 2: "OFFLINE"}.get(n) or self._shape.choices(
                ("LINKED", "UNLINKED", "OFFLINE"), weights=(80, 12, 8)
            )[0]
            name = f"{_TYPE_PREFIX[kind]}{n:03d}"
            result.append(SimWorkstation(str(self._uuid()), name, kind, link))
        return result

    def _make_stream(self, number: int) -> SimStream:
        offset = timedelta(minutes=self._shape.randrange(24 * 60))
        workstation = self._shape.choice(self.workstations).name
        stream = SimStream(
            str(self._uuid()),
            f"JS_{number:05d}",
            workstation,
            self.start_time + offset,
            span=timedelta(minutes=self._shape.randrange(20, 300)),
        )
        self.streams.append(stream)
        return stream

    def _make_jobs(self, total: int) -> list[SimJob]:
        jobs: list[SimJob] = []
        stream: SimStream | None = None
        for index in range(total):
            if index % JOBS_PER_STREAM == 0:
                stream = self._make_stream(index // JOBS_PER_STREAM)
            assert stream is not None
            workstation = stream.workstation
            if self._shape.random() < 0.2:
                workstation = self._shape.choice(self.workstations).name
            job = SimJob(str(self._uuid()), f"JOB_{index:06d}", stream, workstation, "WAIT")
            self._replay(job)
            stream.jobs.append(job)
            jobs.append(job)
        self._sprinkle(jobs)
        for stream in self.streams:
            self._refresh_stream(stream)
        return jobs

    def _replay(self, job: SimJob) -> None:
        """Put a new job where its stream's timeline says it is at `now`."""
        stream = job.stream
        planned = stream.scheduled_time + stream.span * self._shape.random()
        job.duration = timedelta(seconds=min(MAX_RUN_S, 20 + int(self._shape.expovariate(1 / 600))))
        if planned > self.now:
            return  # not launched yet: WAIT
        job.state, job.start = "EXEC", planned.replace(microsecond=0)
        if job.start + job.duration <= self.now:
            self._end(job, job.start + job.duration)
            if job.state == "ABEND" and self._rng.random() < 0.5:
                job.state, job.return_code, job.rerun_count = "SUCC", 0, 1

    def _end(self, job: SimJob, at: datetime) -> None:
        failed = self._rng.random() < FAILURE_RATE
        job.state = "ABEND" if failed else "SUCC"
        job.return_code = self._rng.randrange(1, 256) if failed else 0
        job.end = at

    def _sprinkle(self, jobs: list[SimJob]) -> None:
        """Give one job every known state, and a few more jobs static states."""
        if len(jobs) < len(ALL_STATES) * 4:
            return
        pool = list(jobs)
        self._rng.shuffle(pool)
        for state in ALL_STATES:
            self._set_static(self._pick(pool, state), state)
        for job in pool[: len(pool) // 25]:  # about 4 % more
            state = "HOLD" if job.start is None else self._rng.choice(ALL_STATES)
            self._set_static(job, state)

    @staticmethod
    def _pick(pool: list[SimJob], state: str) -> SimJob:
        # A state that implies a run needs a job that was launched (its stream is due).
        launched = state not in _NOT_LAUNCHED
        for i, job in enumerate(pool):
            if not launched or job.start is not None:
                return pool.pop(i)
        return pool.pop()

    def _set_static(self, job: SimJob, state: str) -> None:
        if state in _NOT_LAUNCHED:
            job.clear_run()
        elif state not in ENDED_JOB_STATES:
            job.end = job.return_code = None
        elif job.end is None:  # ended now, having started earlier
            job.end = self.now
        if state in ENDED_JOB_STATES and state not in _NOT_LAUNCHED:
            failed = state in FAILED_JOB_STATES
            if failed != bool(job.return_code):
                job.return_code = self._rng.randrange(1, 256) if failed else 0
        job.held_from = "WAIT" if state == "HOLD" else None
        job.state = state

    def _refresh_stream(self, stream: SimStream) -> None:
        due = stream.scheduled_time <= self.now
        stream.internal_state = stream_state((job.state for job in stream.jobs), due=due)

    # --- evolution ----------------------------------------------------------------------
    def tick(self, count: int = 1) -> list[str]:
        """Advance the clock `count` ticks; returns the ids of the jobs that changed."""
        changed: list[str] = []
        with self._lock:
            for _ in range(count):
                changed.extend(self._tick_once())
        return changed

    def _tick_once(self) -> list[str]:
        self.ticks += 1
        before = self.now
        if self.clock is None:
            self.now += timedelta(seconds=self.tick_seconds)
        else:
            self.now = max(self.now, self.clock())
        while self.now >= self.start_time + PLAN_DAY:
            self._next_plan_day()
        wanted = max(1, round(self.change_rate * len(self.jobs)))
        movable = [job for job in self.jobs if self._movable(job)]
        picked = self._rng.sample(movable, min(wanted, len(movable)))
        for job in picked:
            self._advance(job)
        touched = {id(job.stream): job.stream for job in picked}
        # Streams whose start time came during this tick go from HOLD to READY.
        touched.update(
            (id(stream), stream)
            for stream in self.streams
            if before < stream.scheduled_time <= self.now
        )
        for stream in touched.values():
            self._refresh_stream(stream)
        return [job.hwa_id for job in picked]

    def _movable(self, job: SimJob) -> bool:
        state = job.state
        if state == "WAIT":
            return job.stream.scheduled_time <= self.now
        if state == "EXEC":  # a run takes its time
            return job.start is None or job.start + job.duration <= self.now
        if state == "ABEND":
            return job.rerun_count < AUTO_RERUNS
        return state == "READY"

    def _advance(self, job: SimJob) -> None:
        state = job.state
        if state in FORWARD:
            job.state = FORWARD[state]
            if job.state == "EXEC":
                job.start = self.now
        elif state == "EXEC":
            self._end(job, self.now)
        else:  # ABEND: the simulated operator reruns it
            job.rerun_count += 1
            job.state = "WAIT"
            job.clear_run()
        job.touch()

    def _next_plan_day(self) -> None:
        """The next plan day: finished streams get their next instance, others carry on."""
        self.start_time += PLAN_DAY
        for stream in self.streams:
            if all(job.state in ENDED_JOB_STATES for job in stream.jobs):
                self._renew(stream)

    def _renew(self, stream: SimStream) -> None:
        stream.hwa_id = str(self._uuid())
        stream.scheduled_time += PLAN_DAY
        for job in stream.jobs:
            del self._by_id[job.hwa_id]
            job.hwa_id = str(self._uuid())
            self._by_id[job.hwa_id] = job
            job.state, job.rerun_count, job.held_from = "WAIT", 0, None
            job.clear_run()
            job.touch()
        self._refresh_stream(stream)

    # --- actions ------------------------------------------------------------------------
    def job(self, hwa_id: str) -> SimJob:
        """The job with this id, or UnknownJob."""
        try:
            return self._by_id[hwa_id]
        except KeyError:
            raise UnknownJob(hwa_id) from None

    def act(self, hwa_id: str, action: str) -> str:
        """Apply a job action; returns HWA-style message text or raises ActionRefused."""
        if action not in ACTIONS:
            raise UnknownAction(action)
        with self._lock:
            job = self.job(hwa_id)
            message = getattr(self, f"_{action}")(job)
            job.touch()
            self._refresh_stream(job.stream)
            return message

    def _rerun(self, job: SimJob) -> str:
        if job.state not in RERUNNABLE:
            raise ActionRefused(f"Job {job.name} cannot be rerun in state {job.state}")
        job.rerun_count += 1
        job.state = "WAIT"
        job.clear_run()
        return f"Rerun of job {job.name} submitted (rerun {job.rerun_count})"

    def _hold(self, job: SimJob) -> str:
        if job.state not in HOLDABLE:
            raise ActionRefused(f"Job {job.name} cannot be held in state {job.state}")
        job.held_from, job.state = job.state, "HOLD"
        return f"Job {job.name} held"

    def _release(self, job: SimJob) -> str:
        if job.state != "HOLD":
            raise ActionRefused(f"Job {job.name} is not held (state {job.state})")
        job.state, job.held_from = job.held_from or "WAIT", None
        return f"Job {job.name} released"

    def _cancel(self, job: SimJob) -> str:
        if job.state in NOT_CANCELLABLE:
            raise ActionRefused(f"Job {job.name} cannot be cancelled in state {job.state}")
        job.state, job.held_from = "CANCL", None
        return f"Job {job.name} cancelled"

    # --- rendering ----------------------------------------------------------------------
    def job_json(self, job: SimJob, flavour: str) -> bytes:
        """One job as JSON, rendered once per change and flavour."""
        if flavour == "v1":
            if job.v1 is None:
                job.v1 = _DUMPS(self._job_v1(job)).encode()
            return job.v1
        if job.v2 is None:
            job.v2 = _DUMPS(self._job_v2(job)).encode()
        return job.v2

    def job_page(self, flavour: str, offset: int, limit: int) -> tuple[list[bytes], int]:
        """Rendered jobs [offset, offset+limit) and the total count, read atomically."""
        with self._lock:
            chunk = self.jobs[offset : offset + limit]
            return [self.job_json(job, flavour) for job in chunk], len(self.jobs)

    def job_one(self, hwa_id: str, flavour: str) -> bytes:
        """One job by id, rendered."""
        with self._lock:
            return self.job_json(self.job(hwa_id), flavour)

    @staticmethod
    def _job_v1(job: SimJob) -> dict[str, Any]:
        stream = job.stream
        item: dict[str, Any] = {
            "id": job.hwa_id,
            "name": job.name,
            "jobStreamInPlan": {
                "id": stream.hwa_id,
                "name": stream.name,
                "startTime": _v1_time(stream.scheduled_time),
                "workstationKey": {"name": stream.workstation},
            },
            "internalStatus": job.state,
            "status": _HIGH_LEVEL.get(job.state, "UNDECIDED"),
            "rerunNumber": job.rerun_count,
        }
        # v1 omits what it does not know (the client must tolerate absent optional keys);
        # a job on its stream's workstation carries no workstation of its own.
        if job.workstation != stream.workstation:
            item["workstationKey"] = {"name": job.workstation}
        optional = {
            "returnCode": job.return_code,
            "actualStart": _v1_time(job.start),
            "actualEnd": _v1_time(job.end),
        }
        item.update({key: value for key, value in optional.items() if value is not None})
        return item

    def _job_v2(self, job: SimJob) -> dict[str, Any]:
        stream = job.stream
        return {
            "flowNodeType": "JOB",
            "id": job.hwa_id,
            "planId": self.plan_id,
            "folder": "/",
            "name": job.name,
            "workstation": job.workstation,
            "jobStreamId": stream.hwa_id,
            "jobStreamName": stream.name,
            "jobStreamSchedTime": _v2_time(stream.scheduled_time),
            "status": {
                "internalStatus": job.state,
                "commonStatus": _HIGH_LEVEL.get(job.state, "UNDECIDED"),
            },
            "returnCode": job.return_code,
            "startTime": _v2_time(job.start),
            "endTime": _v2_time(job.end),
            "rerunCount": job.rerun_count,
            "dependencies": [],
            "dependenciesStats": {},
        }

    def stream_items(self, flavour: str) -> list[dict[str, Any]]:
        """All job streams as plain dicts in the flavour's shape."""
        with self._lock:
            if flavour == "v1":
                return [self._stream_v1(stream) for stream in self.streams]
            return [self._stream_v2(stream) for stream in self.streams]

    @staticmethod
    def _stream_v1(stream: SimStream) -> dict[str, Any]:
        return {
            "id": stream.hwa_id,
            "key": {
                "name": stream.name,
                "startTime": _v1_time(stream.scheduled_time),
                "workstationKey": {"name": stream.workstation},
            },
            "internalStatus": stream.internal_state,
        }

    def _stream_v2(self, stream: SimStream) -> dict[str, Any]:
        return {
            "flowNodeType": "JOBSTREAM",
            "id": stream.hwa_id,
            "planId": self.plan_id,
            "folder": "/",
            "name": stream.name,
            "workstation": stream.workstation,
            "scheduledTime": _v2_time(stream.scheduled_time),
            "status": {"internalStatus": stream.internal_state},
            "dependencies": [],
            "dependenciesStats": {},
        }

    def workstation_items(self) -> list[dict[str, Any]]:
        """All workstations as v1 plan-workstation dicts."""
        return [
            {"id": ws.hwa_id, "name": ws.name, "type": ws.type, "linkStatus": ws.link_state}
            for ws in self.workstations
        ]
