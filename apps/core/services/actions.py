"""Job actions (rerun, hold, release, cancel): forwarded to HWA once, recorded, mirrored.

A job action is never retried (a lost answer does not mean HWA did nothing). Whatever
happens, who asked for what and how it ended is recorded in a JobAction row and the audit
log, in their own transactions, so a refusal is recorded too. After HWA accepted, the job
is read back from HWA and the mirror row updated (with a status event) through the mirror's
one write path, which moves the plan generation: the user's next read shows the outcome at
once rather than at the next sync.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from apps.core.hwa.errors import HwaError, HwaRefused
from apps.core.hwa.types import JOB_ACTIONS, ActionResult
from apps.core.models import Job, JobAction
from apps.core.services.hwa import hwa_client
from apps.core.services.mirror import job_mirror_update
from apps.monitoring.services import audit_record

logger = logging.getLogger(__name__)

UNKNOWN_ACTION = "Unknown job action {action!r}; expected one of: rerun, hold, release, cancel."


def job_action_perform(*, job: Job, action: str, actor: Any, source: str = "api") -> JobAction:
    """Ask HWA to apply `action` to `job`; raises the HWA error if HWA refused or failed."""
    client = hwa_client()
    try:
        result: ActionResult = client.job_action(job.hwa_id, action)
    except HwaError as exc:
        outcome = JobAction.Outcome.REFUSED if isinstance(exc, HwaRefused) else "failed"
        _record(
            job=job, action=action, actor=actor, source=source, outcome=outcome, detail=str(exc)
        )
        raise
    state_after = _mirror_refresh(job=job, client=client)
    return _record(
        job=job,
        action=action,
        actor=actor,
        source=source,
        outcome=JobAction.Outcome.OK,
        detail="; ".join(result.messages),
        state_after=state_after,
    )


@transaction.atomic
def _record(
    *,
    job: Job,
    action: str,
    actor: Any,
    source: str,
    outcome: str,
    detail: str,
    state_after: str = "",
) -> JobAction:
    user = actor if getattr(actor, "pk", None) else None
    record = JobAction.objects.create(
        job_hwa_id=job.hwa_id,
        job_name=job.name,
        action=action,
        actor=user,
        actor_name=getattr(actor, "get_username", lambda: source)(),
        outcome=outcome,
        detail=detail,
        state_after=state_after,
    )
    audit_record(
        actor=actor,
        source=source,
        action=f"job.{action}",
        target=f"job:{job.hwa_id}",
        after={"state": state_after} if state_after else None,
        outcome="ok" if outcome == JobAction.Outcome.OK else outcome,
        detail=detail,
    )
    return record


def _mirror_refresh(*, job: Job, client) -> str:
    """Read the job back from HWA and update the mirror; "" if HWA cannot say now."""
    try:
        record = client.get_job(job.hwa_id)
    except HwaError as exc:  # the action happened; the next sync will catch up
        logger.warning("Could not read job %s back after an action: %s", job.hwa_id, exc)
        return ""
    job_mirror_update(job=job, record=record)
    return record.internal_state or ""


__all__ = ["JOB_ACTIONS", "UNKNOWN_ACTION", "job_action_perform"]
