"""The one write path into the plan mirror (Workstation, JobStream, Job, JobStatusEvent).

No other code writes plan rows: the plan sync applies its snapshot and the demo loader
fills the mirror through a `MirrorWriter` opened by `mirror_write()`, and a job read back
after an action goes through `job_mirror_update`, which uses one too. A writer is one
transaction; if it wrote anything, the plan generation moves once that transaction has
committed (`transaction.on_commit`):

- no cached plan read older than the write is served afterwards, in any process
  (`apps.core.plan_generation`); the writing process moves at once, so its very next read
  is fresh;
- after the commit, not before: a reader that computes between the commit and the bump
  caches new data under the old generation, which is harmless, whereas bumping first would
  let another process cache the old data under the new generation until the next write;
- a write that rolls back, or a sync that found nothing to change, moves nothing.

The synced fields of a job are listed once, in JOB_SYNCED_FIELDS, next to the one function
that builds their values from an HWA record; the sync's COPY/upsert and row builder and the
single-job update all use them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import orjson
from django.db import connection, models, transaction
from django.utils import timezone

from apps.core.bulk import insert_rows
from apps.core.hwa.types import JobRecord
from apps.core.models import Job, JobStatusEvent, JobStream, Workstation
from apps.core.plan_generation import plan_generation_bump

BATCH = 1000
PLAN_MODELS = (Workstation, JobStream, Job, JobStatusEvent)

# The job fields a sync (or a read-back) takes from HWA, in the order of the values
# `job_synced_values` builds.
JOB_SYNCED_FIELDS = (
    "name",
    "stream_id",
    "workstation_id",
    "internal_state",
    "return_code",
    "start",
    "end",
    "rerun_count",
)
# The columns of a row given to `MirrorWriter.jobs_upsert`.
JOB_COLUMNS = ("hwa_id", *JOB_SYNCED_FIELDS, "updated_at", "sync_hash")

M = TypeVar("M", bound=models.Model)


def job_synced_values(record: JobRecord, *, stream_id: int, workstation_id: int) -> tuple:
    """The values of JOB_SYNCED_FIELDS for an HWA job record, in that order."""
    return (
        record.name[:64],
        stream_id,
        workstation_id,
        record.internal_state or "",
        record.return_code,
        record.start,
        record.end,
        record.rerun_count,
    )


def job_digest(values: tuple) -> int:
    """Job.sync_hash of synced values: a re-sync compares it instead of every column.

    Over the values' JSON (orjson: ~0.3 µs, a third of repr's cost, which made computing
    100,000 digests a third of an unchanged re-sync). Rows written with another encoding
    (before 2026-11) differ once: the next sync rewrites them, writing no status event.
    """
    raw = hashlib.blake2b(orjson.dumps(values), digest_size=8).digest()
    return int.from_bytes(raw, "big", signed=True)


def job_stream_key(record: JobRecord) -> str:
    """The JobStream.hwa_id a job belongs to (made up when HWA names no stream instance)."""
    if record.stream_hwa_id:
        return record.stream_hwa_id
    when = record.stream_scheduled_time.isoformat() if record.stream_scheduled_time else "-"
    return f"{record.workstation or '-'}#{record.stream_name or '-'}@{when}"


@contextmanager
def mirror_write() -> Iterator[MirrorWriter]:
    """One atomic change to the mirror; the plan generation moves after it commits, if it wrote."""
    writer = MirrorWriter()
    with transaction.atomic():
        yield writer
        if writer.wrote:
            # robust: the rows are committed whatever happens to the bump (which logs).
            transaction.on_commit(plan_generation_bump, robust=True)


class MirrorWriter:
    """Writes plan rows inside one `mirror_write()` transaction and notes whether it did.

    Only valid inside its `with mirror_write()` block: a write after it would neither be
    part of the transaction nor move the generation.
    """

    def __init__(self) -> None:
        self.wrote = False

    def _count(self, written: int) -> int:
        self.wrote = self.wrote or written > 0
        return written

    # --- generic writes -----------------------------------------------------------------
    def create(self, model: type[M], objs: Sequence[M], *, batch_size: int = BATCH) -> list[M]:
        """bulk_create (ids are set on the returned objects where the database returns them)."""
        self._count(len(objs))
        return model.objects.bulk_create(objs, batch_size=batch_size)

    def update(
        self, model: type[M], objs: Sequence[M], fields: Sequence[str], *, batch_size: int = BATCH
    ) -> None:
        self._count(len(objs))
        model.objects.bulk_update(objs, fields, batch_size=batch_size)

    def get_or_create(self, model: type[M], defaults: dict[str, Any], **lookup: Any) -> M:
        obj, created = model.objects.get_or_create(defaults=defaults, **lookup)
        self._count(int(created))
        return obj

    def insert_rows(
        self, model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple]
    ) -> int:
        """Plain rows through COPY on PostgreSQL (see apps.core.bulk); returns how many."""
        return self._count(insert_rows(model, columns, rows))

    # --- jobs ---------------------------------------------------------------------------
    def jobs_upsert(self, rows: list[tuple], existing: dict) -> list[tuple[int, str, str]]:
        """Write new and changed jobs (rows in JOB_COLUMNS order); (id, hwa_id, state) of each.

        `existing` maps the hwa_ids of rows the mirror already has to (id, ...) as the sync
        read them; a row whose hwa_id is not in it is new.
        """
        self._count(len(rows))
        if connection.vendor == "postgresql":
            return _upsert_jobs_pg(rows)
        return _upsert_jobs(rows, existing)

    def jobs_delete(self, ids: list[int]) -> None:
        """Plain DELETEs, events first (the ORM's cascade would load every row first)."""
        self._count(len(ids))
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                marks = ", ".join(["%s"] * len(chunk))
                for model, column in ((JobStatusEvent, "job_id"), (Job, "id")):
                    table = quote(model._meta.db_table)
                    cursor.execute(
                        f"DELETE FROM {table} WHERE {quote(column)} IN ({marks})",  # noqa: S608  # nosec B608  # quoted model identifiers; ids are %s parameters
                        chunk,
                    )

    def job_update(self, job: Job, record: JobRecord, *, now: datetime) -> None:
        """One job's row from HWA's record of it (and a status event if its state moved)."""
        before = job.internal_state
        stream_id, workstation_id = _ids_in_mirror(record, job)
        values = job_synced_values(record, stream_id=stream_id, workstation_id=workstation_id)
        for name, value in zip(JOB_SYNCED_FIELDS, values, strict=True):
            setattr(job, name, value)
        # The digest a sync would compute, so the next sync counts the job unchanged.
        job.updated_at, job.sync_hash = now, job_digest(values)
        job.save(update_fields=[*JOB_SYNCED_FIELDS, "updated_at", "sync_hash"])
        self._count(1)
        if before != job.internal_state:
            JobStatusEvent.objects.create(
                job=job, from_state=before, to_state=job.internal_state, at=now
            )

    # --- streams and the whole plan -----------------------------------------------------
    def streams_delete_unused(self, ids: list[int]) -> int:
        """Delete those of these streams no job refers to; returns how many went."""
        removed = 0
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            deleted = JobStream.objects.filter(id__in=chunk, jobs__isnull=True).delete()[1]
            removed += deleted.get(JobStream._meta.label, 0)
        return self._count(removed)

    def clear(self) -> None:
        """Delete the whole plan mirror.

        Plain DELETEs, children first: the ORM's cascading delete would first load every
        row into memory, which takes longer than loading a new plan.
        """
        self._count(1)
        with connection.cursor() as cursor:
            for model in reversed(PLAN_MODELS):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608  # nosec B608  # quoted model table name


def job_mirror_update(*, job: Job, record: JobRecord) -> Job:
    """Apply HWA's current view of one job to its mirror row (and an event if state moved)."""
    with mirror_write() as mirror:
        mirror.job_update(job, record, now=timezone.now())
    return job


def _ids_in_mirror(record: JobRecord, job: Job) -> tuple[int, int]:
    """(stream id, workstation id) the record names; the job's own where the mirror has none."""
    streams = JobStream.objects.filter(hwa_id=job_stream_key(record))
    workstations = Workstation.objects.filter(name=record.workstation)
    return (
        streams.values_list("id", flat=True).first() or job.stream_id,
        workstations.values_list("id", flat=True).first() or job.workstation_id,
    )


def _upsert_jobs_pg(rows: list[tuple]) -> list[tuple[int, str, str]]:
    """COPY rows into a temp table, then one INSERT ... ON CONFLICT; (id, hwa_id, state)."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    table = quote(Job._meta.db_table)
    columns = [quote(Job._meta.get_field(name).column) for name in JOB_COLUMNS]
    names = ", ".join(columns)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != quote("hwa_id"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE sync_job ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA"  # noqa: S608  # nosec B608  # quoted model identifiers
        )
        with cursor.connection.cursor().copy(f"COPY sync_job ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM sync_job "  # noqa: S608  # nosec B608  # quoted model identifiers
            f"ON CONFLICT (hwa_id) DO UPDATE SET {updates} "
            f"WHERE {table}.sync_hash IS DISTINCT FROM EXCLUDED.sync_hash "
            f"RETURNING id, hwa_id, internal_state"
        )
        written = cursor.fetchall()
        cursor.execute("DROP TABLE sync_job")
    return written


def _upsert_jobs(rows: list[tuple], existing: dict) -> list[tuple[int, str, str]]:
    """The portable path: bulk_create new jobs, bulk_update changed ones."""
    new, changed = [], []
    for row in rows:
        values = dict(zip(JOB_COLUMNS, row, strict=True))
        known = existing.get(row[0])
        if known is None:
            new.append(Job(**values))
        else:
            changed.append(Job(id=known[0], **values))
    Job.objects.bulk_create(new, batch_size=BATCH)
    if any(job.pk is None for job in new):  # a database that does not return ids
        ids = dict(
            Job.objects.filter(hwa_id__in=[j.hwa_id for j in new]).values_list("hwa_id", "id")
        )
        for job in new:
            job.pk = ids[job.hwa_id]
    Job.objects.bulk_update(changed, [c for c in JOB_COLUMNS if c != "hwa_id"], batch_size=200)
    return [(job.pk, job.hwa_id, job.internal_state) for job in new + changed]


# A sync or load that adds or removes at least this many jobs refreshes the planner's
# statistics at once.
RESHAPED_JOBS = 1000


def plan_statistics_refresh() -> None:
    """ANALYZE the plan tables (PostgreSQL) after a bulk write, outside its transaction.

    Right after a plan is loaded PostgreSQL still holds the empty tables' statistics until
    autovacuum comes by; it then plans the console's late-jobs read (a filter on the
    job's status joined to its stream's due time) as a nested loop over every job: 14 s
    on 100,000 jobs, 0.1 s once analyzed. A few hundred milliseconds here saves that.
    """
    if connection.vendor != "postgresql":
        return  # SQLite's planner keeps no such statistics unless asked; nothing went stale
    tables = [model._meta.db_table for model in (Workstation, JobStream, Job, JobStatusEvent)]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'ANALYZE "{table}"')  # nosec B608  # our own model tables
