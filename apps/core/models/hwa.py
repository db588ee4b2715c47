"""The HWA integration's state: the connection settings, sync runs and job actions."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from apps.security.crypto import EncryptedTextField

DEFAULT_CONNECTION = "default"
# The settings an administrator edits (the admin form) and the audit log records; the
# password is edited and audited apart, since its value must never be shown or logged.
EDITABLE_FIELDS = (
    "name",
    "enabled",
    "base_url",
    "username",
    "verify_tls",
    "connect_timeout",
    "read_timeout",
    "page_size",
    "sync_interval",
    "flavour",
)


class HwaConnection(models.Model):
    """How to reach the HWA REST API; the row named "default" is the one in use."""

    class Flavour(models.TextChoices):
        V1 = "v1", "v1 (plan/current queries)"
        V2 = "v2", "v2 (api/v2/plan)"

    name = models.CharField(
        max_length=64,
        unique=True,
        default=DEFAULT_CONNECTION,
        help_text='Resync uses the connection named "default".',
    )
    enabled = models.BooleanField(default=True, help_text="Off: no sync runs, actions refused.")
    base_url = models.URLField(
        max_length=300, help_text="HWA REST base URL, e.g. https://hwa.example.com:31116/twsd"
    )
    username = models.CharField(max_length=150, help_text="HWA user (HTTP Basic auth).")
    password = EncryptedTextField(
        blank=True, help_text="Stored encrypted (Fernet); never shown. Leave blank to keep it."
    )
    verify_tls = models.BooleanField(default=True, help_text="Check HWA's TLS certificate.")
    connect_timeout = models.FloatField(
        default=5.0,
        validators=[MinValueValidator(0.1), MaxValueValidator(120)],
        help_text="Seconds to wait for a TCP/TLS connection to HWA.",
    )
    read_timeout = models.FloatField(
        default=30.0,
        validators=[MinValueValidator(0.1), MaxValueValidator(600)],
        help_text="Seconds to wait for HWA's answer to one call.",
    )
    page_size = models.PositiveIntegerField(
        default=1000,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text="Records per page (HWA's How-Many header).",
    )
    sync_interval = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(86_400)],
        help_text="Seconds between plan syncs (sync_plan --loop).",
    )
    flavour = models.CharField(
        max_length=2,
        choices=Flavour.choices,
        default=Flavour.V1,
        help_text="Which HWA REST API generation to call.",
    )
    version = models.PositiveIntegerField(
        default=0, editable=False, help_text="Goes up on every change."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "HWA connection"

    def __str__(self) -> str:
        return f"{self.name} ({self.base_url})"


class SyncRun(models.Model):
    """One run of the plan sync: when, how it ended, and what it changed."""

    class Status(models.TextChoices):
        RUNNING = "running"
        OK = "ok"
        FAILED = "failed"
        SKIPPED = "skipped"

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.RUNNING, db_index=True
    )
    counts = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per kind (workstations, streams, jobs): created, updated, unchanged, removed.",
    )
    events = models.PositiveIntegerField(default=0, help_text="Job status events written.")
    error = models.TextField(blank=True)
    host = models.CharField(max_length=255, blank=True, help_text="host:pid that ran it.")
    request_id = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="Correlation id: in the run's log lines and the Request-Id of its HWA calls.",
    )
    # A run that changed nothing and ended like the previous one is not a row of its own:
    # the previous row counts it (a sync every 5 s would otherwise add 17,000 rows a day).
    repeats = models.PositiveIntegerField(
        default=0, help_text="Later runs with the same outcome that changed nothing."
    )
    last_finished_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last of those repeats finished."
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"sync {self.started_at:%Y-%m-%d %H:%M:%S} {self.status}"

    @property
    def latest_finished_at(self) -> datetime | None:
        """When this run, or the last repeat it stands for, finished."""
        return self.last_finished_at or self.finished_at

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class SyncHeartbeat(models.Model):
    """A plan sync process saying it is alive: refreshed every few seconds while it runs."""

    host = models.CharField(max_length=255, unique=True, help_text="host:pid of the process.")
    loop = models.BooleanField(default=False, help_text="A `sync_plan --loop` (not one run).")
    started_at = models.DateTimeField(default=timezone.now)
    beat_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.host} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class JobAction(models.Model):
    """A job action (rerun, hold, release, cancel) a user asked HWA for, and its outcome."""

    class Outcome(models.TextChoices):
        OK = "ok"
        REFUSED = "refused"
        FAILED = "failed"

    # The HWA id, not a foreign key: the record outlives the job when the plan moves on.
    job_hwa_id = models.CharField(max_length=128, db_index=True)
    job_name = models.CharField(max_length=64)
    action = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    detail = models.TextField(blank=True, help_text="HWA's messages, or the failure.")
    state_after = models.CharField(
        max_length=16, blank=True, help_text="The job's internal state HWA reported afterwards."
    )

    class Meta:
        ordering = ["-at", "-id"]
        permissions = [("act_on_job", "Can rerun, hold, release or cancel jobs in HWA")]

    def __str__(self) -> str:
        return f"{self.action} {self.job_name} by {self.actor_name}: {self.outcome}"
