"""The one mapping from HWA internal job states to the high-level status.

HWA reports an internal state per job (conman `showjobs`); the Dynamic Workload Console
groups them into a handful of statuses. Resync stores the internal state exactly as HWA
reports it and derives the status from it here, in the database (see Job.status), so
filters and counts on status use an index. A state this table does not know is kept as
is and shown as Undecided, never turned into an error.

Waiting                  WAIT, WAITD, SCHED, ADD      dependencies, `at` time or submission pending
Ready                    READY                        dependencies resolved, not yet launched
Running                  INTRO, EXEC, PEND, ABENP,    launched, not final yet (PEND, ABENP and
                         SUCCP, BOUND, RJOB           SUCCP await a confirmation)
Successful               SUCC                         ended with a successful return code
Error                    ABEND, FAIL, ERROR           ended badly or could not be launched
Canceled                 CANCL, CANCP                 canceled, or cancel pending
Held                     HOLD, SUSP                   held or suspended by an operator
Blocked                  FENCE                        priority below the workstation fence
Suppressed by condition  SUPPR                        condition dependencies not satisfied
Undecided                DONE, EXTRN, USER, unknown   HWA itself does not know the outcome
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models


class JobStatus(models.TextChoices):
    """High-level job status, as the Dynamic Workload Console shows it."""

    WAITING = "Waiting"
    READY = "Ready"
    RUNNING = "Running"
    SUCCESSFUL = "Successful"
    ERROR = "Error"
    CANCELED = "Canceled"
    HELD = "Held"
    UNDECIDED = "Undecided"
    BLOCKED = "Blocked"
    SUPPRESSED = "Suppressed by condition"


STATUS_BY_INTERNAL_STATE: dict[str, JobStatus] = {
    "WAIT": JobStatus.WAITING,
    "WAITD": JobStatus.WAITING,
    "SCHED": JobStatus.WAITING,
    "ADD": JobStatus.WAITING,
    "READY": JobStatus.READY,
    "INTRO": JobStatus.RUNNING,
    "EXEC": JobStatus.RUNNING,
    "PEND": JobStatus.RUNNING,
    "ABENP": JobStatus.RUNNING,
    "SUCCP": JobStatus.RUNNING,
    "BOUND": JobStatus.RUNNING,
    "RJOB": JobStatus.RUNNING,
    "SUCC": JobStatus.SUCCESSFUL,
    "ABEND": JobStatus.ERROR,
    "FAIL": JobStatus.ERROR,
    "ERROR": JobStatus.ERROR,
    "CANCL": JobStatus.CANCELED,
    "CANCP": JobStatus.CANCELED,
    "HOLD": JobStatus.HELD,
    "SUSP": JobStatus.HELD,
    "FENCE": JobStatus.BLOCKED,
    "SUPPR": JobStatus.SUPPRESSED,
    "DONE": JobStatus.UNDECIDED,
    "EXTRN": JobStatus.UNDECIDED,
    "USER": JobStatus.UNDECIDED,
}

# The internal states HWA 10.2.x documents (conman showjobs); older releases add more.
CURRENT_INTERNAL_STATES = (
    "ABEND", "ABENP", "ADD", "CANCL", "DONE", "ERROR", "EXEC", "EXTRN", "FAIL", "FENCE",
    "HOLD", "INTRO", "PEND", "READY", "SCHED", "SUCC", "SUCCP", "SUPPR", "WAIT",
)  # fmt: skip

# Job stream states (conman showschedules): HWA 10.2's documented ones, CANCP (how CANCELP is
# abbreviated), and CANCL and WAIT, which older releases report (the bundled simulator reports
# HOLD, READY, EXEC, SUCC, ABEND and CANCL: see stream_state below).
JOB_STREAM_STATES = (
    "ABEND", "ADD", "CANCL", "CANCP", "ERROR", "EXEC", "EXTRN", "HOLD", "READY", "STUCK",
    "SUCC", "SUPPR", "WAIT",
)  # fmt: skip


def status_for(internal_state: str) -> JobStatus:
    """The high-level status of an internal state; unknown states are Undecided."""
    return STATUS_BY_INTERNAL_STATE.get(internal_state.strip().upper(), JobStatus.UNDECIDED)


def status_expression(field: str = "internal_state") -> models.Case:
    """The same mapping as a SQL CASE, so the database derives and indexes the status."""
    whens = [
        models.When(**{f"{field}__in": states}, then=models.Value(status.value))
        for status, states in _states_by_status().items()
    ]
    return models.Case(
        *whens, default=models.Value(JobStatus.UNDECIDED.value), output_field=models.CharField()
    )


def _states_by_status() -> dict[JobStatus, list[str]]:
    grouped: dict[JobStatus, list[str]] = {}
    for state, status in STATUS_BY_INTERNAL_STATE.items():
        grouped.setdefault(status, []).append(state)
    return grouped


# --- Job streams ------------------------------------------------------------------------
# HWA reports a job stream's own internal state (conman `showschedules`): HOLD (waiting for
# its start time or a dependency), READY, EXEC, SUCC, ABEND, STUCK, CANCL, SUPPR... It
# reflects the stream's jobs. The simulator computes it with `stream_state`; the sync keeps
# the state HWA reports and uses `stream_state` only for a stream HWA did not describe.

# The job will not run again unless an operator reruns it.
ENDED_JOB_STATES = frozenset({"SUCC", "ABEND", "FAIL", "ERROR", "CANCL", "DONE", "SUPPR"})
FAILED_JOB_STATES = frozenset({"ABEND", "FAIL", "ERROR"})
# Launched and not ended yet (PEND, ABENP and SUCCP await a confirmation).
RUNNING_JOB_STATES = frozenset({"INTRO", "EXEC", "PEND", "ABENP", "SUCCP", "BOUND", "RJOB"})


def stream_state(job_states: Iterable[str], *, due: bool) -> str:
    """A job stream's internal state from its jobs' states.

    All jobs ended: ABEND if one failed, CANCL if all were cancelled, else SUCC. Some job
    launched or ended: EXEC. Nothing launched yet: READY once the stream's start time has
    come (`due`), HOLD before. A stream without jobs completes as soon as it is due.
    """
    states = [state.strip().upper() for state in job_states]
    if not states:
        return "SUCC" if due else "HOLD"
    if all(state in ENDED_JOB_STATES for state in states):
        if any(state in FAILED_JOB_STATES for state in states):
            return "ABEND"
        return "CANCL" if all(state == "CANCL" for state in states) else "SUCC"
    if any(state in RUNNING_JOB_STATES or state in ENDED_JOB_STATES for state in states):
        return "EXEC"
    return "READY" if due else "HOLD"
