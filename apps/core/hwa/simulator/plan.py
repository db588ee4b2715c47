"""The simulated HWA plan: workstations, job streams and jobs that change over time.

Deterministic from a seed and a plan start time: the same seed and the same number of
ticks give the same plan. Each tick advances the simulated clock by `tick_seconds` and
moves a fixed fraction (`change_rate`) of the jobs one step along
WAIT -> READY -> EXEC -> SUCC | ABEND; finished jobs go back to WAIT as the next run of the
plan, so a long-running simulator keeps changing. A sprinkling of every internal state of
hwa-api.md (and older ones such as SUSP) is present from the start and never moves, so a
mirror shows them all.

Rendering is cached per job and per flavour, and invalidated only when that job changes:
serving a page costs the page, never the plan (100,000 jobs must page out in seconds).
"""

from __future__ import annotations

import functools
import json
import random
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

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


@dataclass(slots=True)
class SimStream:
    """A simulated job stream instance."""

    hwa_id: str
    name: str
    workstation: str
    scheduled_time: datetime
    internal_state: str


@dataclass(slots=True)
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
    v1: bytes | None = None
    v2: bytes | None = None

    def touch(self) -> None:
        self.v1 = self.v2 = None


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
    ) -> None:
        if jobs < 0 or not 0 <= change_rate <= 1 or tick_seconds < 0:
            raise ValueError("jobs >= 0, 0 <= change_rate <= 1 and tick_seconds >= 0")
        self.seed = seed
        self.change_rate = change_rate
        self.tick_seconds = tick_seconds
        self.start_time = start_time or datetime(2025, 1, 1, tzinfo=UTC)
        self.now = self.start_time
        self.ticks = 0
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self.plan_id = str(self._uuid())
        self.workstations = self._make_workstations(jobs)
        self.streams: list[SimStream] = []
        self.jobs: list[SimJob] = self._make_jobs(jobs)
        self._by_id = {job.hwa_id: job for job in self.jobs}

    # --- generation ---------------------------------------------------------------------
    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._rng.getrandbits(128), version=4)

    def _make_workstations(self, jobs: int) -> list[SimWorkstation]:
        count = min(60, max(12, jobs // 1000))
        result = [SimWorkstation(str(self._uuid()), "MDM", "MASTER", "LINKED")]
        for n in range(1, count):
            kind = WORKSTATION_TYPES[(n - 1) % len(WORKSTATION_TYPES)]
            # Positions 1 and 2 guarantee every link state is present at least once.
            link = {1: "UNLINKED", 2: "OFFLINE"}.get(n) or self._rng.choices(
                ("LINKED", "UNLINKED", "OFFLINE"), weights=(80, 12, 8)
            )[0]
            name = f"{_TYPE_PREFIX[kind]}{n:03d}"
            result.append(SimWorkstation(str(self._uuid()), name, kind, link))
        return result

    def _make_stream(self, number: int) -> SimStream:
        offset = timedelta(minutes=self._rng.randrange(24 * 60))
        workstation = self._rng.choice(self.workstations).name
        stream = SimStream(
            str(self._uuid()), f"JS_{number:05d}", workstation, self.start_time + offset, "WAIT"
        )
        self.streams.append(stream)
        return stream

    def _initial_state(self, index: int, total: int) -> str:
        # Spread one job of every known state across the plan, then weight the rest.
        stride = max(1, total // len(ALL_STATES))
        if total >= len(ALL_STATES) and index % stride == 0 and index // stride < len(ALL_STATES):
            return ALL_STATES[index // stride]
        roll = self._rng.random()
        for state, upto in (
            ("WAIT", 0.55),
            ("READY", 0.65),
            ("EXEC", 0.70),
            ("SUCC", 0.90),
            ("ABEND", 0.94),
            ("HOLD", 0.96),
        ):
            if roll < upto:
                return state
        return self._rng.choice(ALL_STATES)

    def _make_jobs(self, total: int) -> list[SimJob]:
        jobs: list[SimJob] = []
        stream: SimStream | None = None
        for index in range(total):
            if index % 10 == 0:
                stream = self._make_stream(index // 10)
            assert stream is not None
            workstation = stream.workstation
            if self._rng.random() < 0.2:
                workstation = self._rng.choice(self.workstations).name
            job = SimJob(str(self._uuid()), f"JOB_{index:06d}", stream, workstation, "WAIT")
            self._set_state(job, self._initial_state(index, total))
            jobs.append(job)
        return jobs

    def _set_state(self, job: SimJob, state: str) -> None:
        job.state = state
        if state == "HOLD":
            job.held_from = "WAIT"
        if state in ("EXEC", "SUCC", "ABEND"):
            job.start = job.stream.scheduled_time
        if state in ("SUCC", "ABEND"):
            job.end = job.start + timedelta(minutes=self._rng.randrange(1, 90))
            job.return_code = 0 if state == "SUCC" else self._rng.randrange(1, 256)
        job.touch()

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
        self.now += timedelta(seconds=self.tick_seconds)
        if not self.jobs:
            return []
        wanted = max(1, round(self.change_rate * len(self.jobs)))
        changed: list[str] = []
        # Static states (the sprinkled ones, HOLD) are skipped; bounded so a plan made only
        # of static jobs cannot loop forever.
        for _ in range(wanted * 4):
            if len(changed) == wanted:
                break
            job = self.jobs[self._rng.randrange(len(self.jobs))]
            if self._advance(job):
                changed.append(job.hwa_id)
        return changed

    def _advance(self, job: SimJob) -> bool:
        state = job.state
        if state == "WAIT":
            job.state = "READY"
        elif state == "READY":
            job.state, job.start, job.end, job.return_code = "EXEC", self.now, None, None
        elif state == "EXEC":
            failed = self._rng.random() < 0.1
            job.state = "ABEND" if failed else "SUCC"
            job.return_code = self._rng.randrange(1, 256) if failed else 0
            job.end = self.now
        elif state in ("SUCC", "ABEND"):
            # The next run of the plan: the job waits again.
            job.state, job.start, job.end, job.return_code = "WAIT", None, None, None
        else:
            return False
        job.touch()
        return True

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
            return message

    def _rerun(self, job: SimJob) -> str:
        if job.state not in RERUNNABLE:
            raise ActionRefused(f"Job {job.name} cannot be rerun in state {job.state}")
        job.rerun_count += 1
        job.state, job.start, job.end, job.return_code = "WAIT", None, None, None
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
