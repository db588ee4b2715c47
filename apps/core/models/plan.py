"""The plan mirror: HWA's current plan as Resync last saw it.

Rows are written only through the mirror's write path (apps.core.services.mirror: the plan
sync, a job action's read-back, the demo loader), never edited by hand: the admin shows them
read-only.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from apps.core.states import JobStatus, status_expression


class Workstation(models.Model):
    """A workstation of the HWA network (master, agent, pool...)."""

    name = models.CharField(max_length=64, unique=True, help_text="HWA workstation name.")
    type = models.CharField(
        max_length=16, db_index=True, help_text="As HWA reports it: MASTER, FTA, AGENT, POOL..."
    )
    link_state = models.CharField(
        max_length=16, db_index=True, help_text="LINKED, UNLINKED or OFFLINE, as HWA reports it."
    )
    updated_at = models.DateTimeField(default=timezone.now)
    # Marked, not deleted: jobs and streams may still refer to it, and a workstation HWA
    # lists again comes back with its history. prune_history deletes one gone for longer
    # than the retention once nothing refers to it.
    gone_at = models.DateTimeField(
        null=True, blank=True, help_text="When HWA stopped listing it; empty while listed."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class JobStream(models.Model):
    """A job stream instance in the current plan."""

    hwa_id = models.CharField(max_length=128, unique=True, help_text="HWA's id of the instance.")
    name = models.CharField(max_length=64, db_index=True)
    workstation = models.ForeignKey(Workstation, on_delete=models.PROTECT, related_name="streams")
    scheduled_time = models.DateTimeField(null=True, blank=True, db_index=True)
    state = models.CharField(max_length=16, blank=True, help_text="Internal state, as reported.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scheduled_time", "name"]

    def __str__(self) -> str:
        return f"{self.workstation_id and self.workstation.name}#{self.name}"


class Job(models.Model):
    """A job instance in the current plan."""

    hwa_id = models.CharField(max_length=128, unique=True, help_text="HWA's id of the job.")
    name = models.CharField(max_length=64, db_index=True)
    stream = models.ForeignKey(JobStream, on_delete=models.CASCADE, related_name="jobs")
    workstation = models.ForeignKey(Workstation, on_delete=models.PROTECT, related_name="jobs")
    internal_state = models.CharField(
        max_length=16, db_index=True, help_text="Exactly as HWA reports it (unknown ones kept)."
    )
    # Derived by the database from internal_state with the one mapping in states.py,
    # so it can never disagree with it and filters on it use an index.
    status = models.GeneratedField(
        expression=status_expression(),
        output_field=models.CharField(max_length=32, choices=JobStatus.choices),
        db_persist=True,
        db_index=True,
    )
    return_code = models.IntegerField(null=True, blank=True)
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    rerun_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    # A digest of the synced fields: a re-sync compares it instead of every column.
    sync_hash = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["workstation", "status"], name="job_ws_status_idx"),
            models.Index(fields=["start"], name="job_start_idx"),
            models.Index(fields=["end"], name="job_end_idx"),
            models.Index(fields=["updated_at"], name="job_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class JobStatusEvent(models.Model):
    """One change of a job's internal state, as seen by the sync."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["job", "-at"], name="jobevent_job_at_idx")]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.from_state or '-'} -> {self.to_state}"
