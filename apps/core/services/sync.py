"""The plan sync: pull workstations, job streams and jobs from HWA into the mirror.

CONSISTENCY. A run is transactional as a whole: every page of every listing is fetched
first (outside any transaction, so no database lock is held during HTTP), and only once the
job listing's last page (`Page.is_last`) has arrived is the snapshot applied, in ONE
database transaction. A failed call, a malformed page or a record we cannot read therefore
fails the run before anything is written: readers see the previous plan, complete, until
the next complete one replaces it. Holding 100,000 parsed jobs costs tens of MB, a fair
price for never serving a half-applied plan (per-page apply with a watermark would still
show a mix of two plans while a run is in progress).

WHAT IS WRITTEN. Only what changed, through the mirror's one write path
(`apps.core.services.mirror`), which moves the plan generation once the run's transaction
has committed, if it wrote anything. Each job row keeps `sync_hash`, a 64-bit digest of the
synced fields; a run reads (hwa_id, id, state, hash) of the mirror once and writes only
new and changed jobs (on PostgreSQL through COPY and one INSERT ... ON CONFLICT). Every
change of a job's internal state (including a job's first appearance) writes a
JobStatusEvent.

WHAT IS RE-READ. A re-sync where 1 % of the jobs moved costs little more than reading the
listings: the client parses only items whose JSON text changed since its last complete
listing (`apps.core.hwa.parsing.RecordMemo`), a pure cache of what the text determines.
Every job's digest is computed afresh (about 0.15 s for 100,000 jobs) and compared with the
mirror's, so no change can hide behind the cache (a rolled-back run, another writer, a
restart). Between runs the process keeps only the memo's records: each run's digests,
rows and comparison are freed with it (see apps.core.memory for giving the pages back).

VANISHED OBJECTS. The mirror is the *current* plan: a job HWA no longer lists (the plan
moved on, a job was deleted) is deleted with its events; a job stream is deleted once it
is no longer listed and no job refers to it. A workstation HWA no longer lists (and no
listed stream or job refers to) is marked gone (`gone_at`, counted as "removed"), not
deleted: it belongs to the network, which outlives a plan, and comes back with its history
if HWA lists it again; `prune_history` deletes it once it has been gone longer than the
retention. Job actions keep the job's HWA id, not a foreign key, so their history survives.

STREAM STATES. A job stream's state is the one HWA reports (it reflects its jobs, and can
say what jobs cannot: held, cancelled, stuck). Only a stream HWA did not describe (not
listed, or listed without a state) gets the state its jobs imply, by the one rule in
`apps.core.states.stream_state`.

RUN HISTORY. A run that changed nothing and ended like the latest run (same status, same
error, same counts) is not recorded as a row of its own: the latest row's `repeats` goes
up and its `last_finished_at` moves on, for up to FOLD_WINDOW after that row started.
Freshness and health read `last_finished_at`. Skipped runs fold the same way, per host.

CORRELATION. A run has a request id (`SyncRun.request_id`): the current request's when a
request started it, else a new one per run. Its log lines carry it and so do its HWA calls
(`Request-Id`), so a run's traces can be found on both sides.

ONE AT A TIME. On PostgreSQL a run holds a session advisory lock (`pg_try_advisory_lock`),
so any number of processes on any number of hosts may run `sync_plan --loop`: one works,
the others record a "skipped" run and wait for their next turn. Elsewhere (SQLite, one
host) the claim is the "running" SyncRun row itself, created in an IMMEDIATE transaction;
a claim whose process stopped beating (services/heartbeat.py) counts as abandoned.

ONE PER INTERVAL. The lock alone only keeps runs apart: two loops whose runs do not overlap
would each sync every interval, twice the load on HWA for nothing. A loop therefore passes
its interval (`every`), and while holding the claim a run that finds another run (ok or
failed, any process) finished less than an interval ago skips too. A loop's own runs are
an interval apart by construction, so one loop alone never skips; with several, the first
to wake in each interval syncs and the others skip. INTERVAL_SLACK leaves room for clock
jitter, so a loop never skips its own next run; loops on several hosts compare their clocks
(NTP keeps them well within it). A single `sync_plan` (no loop) passes no interval: it
syncs now if nothing else is running.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.core.hwa.client import HwaClient
from apps.core.hwa.types import JobRecord, JobStreamRecord, WorkstationRecord
from apps.core.memory import heap_trim
from apps.core.middleware import current_request_id, request_id_context
from apps.core.models import Job, JobStatusEvent, JobStream, SyncRun, Workstation
from apps.core.selectors.sync import freshness_reset, run_is_stale
from apps.core.services.heartbeat import process_host
from apps.core.services.hwa import hwa_client
from apps.core.services.mirror import (
    RESHAPED_JOBS,
    MirrorWriter,
    job_digest,
    job_stream_key,
    job_synced_values,
    mirror_write,
    plan_statistics_refresh,
)
from apps.core.states import stream_state

logger = logging.getLogger(__name__)

# pg_try_advisory_lock key: "RESYNC" in ASCII, so it is recognisable in pg_locks.
LOCK_KEY = 0x5245_5359_4E43
SKIPPED_DETAIL = "another plan sync is running"
SYNCED_RECENTLY = "another plan sync finished less than an interval ago"
# A loop's next run starts an interval after its last one finished: never skip it for
# the few milliseconds by which the wall clock and the loop's monotonic wait can differ.
INTERVAL_SLACK = timedelta(milliseconds=250)
INTERRUPTED = "interrupted: the process running it stopped"
FOLD_WINDOW = timedelta(hours=1)
# New and changed jobs written per statement (see _apply_jobs).
UPSERT_CHUNK = 10_000

Progress = Callable[[str, int], None]


@dataclass
class KindCounts:
    """What a run did to one kind of object."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


@dataclass
class _Snapshot:
    """The complete plan as HWA listed it in one run."""

    workstations: list[WorkstationRecord]
    streams: list[JobStreamRecord]
    jobs: dict[str, JobRecord]


@dataclass
class _Outcome:
    counts: dict[str, KindCounts] = field(default_factory=dict)
    events: int = 0


# --- the run -----------------------------------------------------------------------------
def plan_sync(
    *,
    client: HwaClient | None = None,
    progress: Progress | None = None,
    every: timedelta | None = None,
) -> SyncRun:
    """Run one sync; returns its SyncRun (status ok, failed or skipped; never raises for HWA).

    `every`: the caller's interval (a sync loop's); skip if any process's run finished
    less than that ago, so several loops make one sync per interval between them.
    """
    if client is None:
        client = hwa_client()
    run = _sync(client, progress or (lambda kind, n: None), every)
    if run.status != SyncRun.Status.SKIPPED:
        heap_trim()  # what the run parsed and compared is free now: give the pages back
    return run


def _sync(client: HwaClient, tick: Progress, every: timedelta | None) -> SyncRun:
    with request_id_context(), _claim(every) as run:
        if isinstance(run, str):
            return _record_skipped(run)
        try:
            snapshot = _fetch(client, tick)
            with mirror_write() as mirror:
                outcome = _apply(mirror, snapshot, now=timezone.now())
        except ApplicationError as exc:  # HWA errors, unreadable records
            return _finish(run, SyncRun.Status.FAILED, error=str(exc))
        except Exception as exc:
            logger.exception("Plan sync failed")
            return _finish(run, SyncRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
        return _finish(run, SyncRun.Status.OK, outcome=outcome)


def _host() -> str:
    return process_host()  # the heartbeat's identity: a run is matched to its process


@contextmanager
def _claim(every: timedelta | None) -> Iterator[SyncRun | str]:
    """A new running SyncRun if this process may sync now, else why it skips."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            locked = cursor.fetchone()[0]
        if not locked:
            yield SKIPPED_DETAIL
            return
        try:
            # Holding the lock, any "running" run is one whose process died.
            SyncRun.objects.filter(status=SyncRun.Status.RUNNING).update(
                status=SyncRun.Status.FAILED, error=INTERRUPTED, finished_at=timezone.now()
            )
            if _synced_within(every):
                yield SYNCED_RECENTLY
            else:
                yield SyncRun.objects.create(host=_host(), request_id=current_request_id())
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        return
    with transaction.atomic():  # IMMEDIATE on SQLite: claimants queue here
        running = list(SyncRun.objects.filter(status=SyncRun.Status.RUNNING))
        abandoned = [run.pk for run in running if run_is_stale(run)]
        SyncRun.objects.filter(pk__in=abandoned).update(
            status=SyncRun.Status.FAILED, error=INTERRUPTED, finished_at=timezone.now()
        )
        if len(running) > len(abandoned):
            claim: SyncRun | str = SKIPPED_DETAIL
        elif _synced_within(every):
            claim = SYNCED_RECENTLY
        else:
            claim = SyncRun.objects.create(host=_host(), request_id=current_request_id())
    yield claim


def _synced_within(every: timedelta | None) -> bool:
    """Did any run (not a skip) finish less than `every` ago? Asked holding the claim."""
    if every is None:
        return False
    since = timezone.now() - every + interval_slack(every)
    finished = SyncRun.objects.exclude(status=SyncRun.Status.SKIPPED)
    return finished.filter(last_finished_at__gt=since).exists()


def interval_slack(every: timedelta) -> timedelta:
    """How much less than `every` apart two runs of several loops may start (clock jitter)."""
    return min(INTERVAL_SLACK, every / 10)


def _record_skipped(detail: str) -> SyncRun:
    now = timezone.now()
    run = SyncRun(
        status=SyncRun.Status.SKIPPED,
        started_at=now,
        finished_at=now,
        last_finished_at=now,
        error=detail,
        host=_host(),
        request_id=current_request_id(),
    )
    if not _fold_repeat(run):
        run.save()
    return run


def _finish(
    run: SyncRun, status: str, *, outcome: _Outcome | None = None, error: str = ""
) -> SyncRun:
    run.status, run.error = status, error
    run.finished_at = run.last_finished_at = timezone.now()
    if outcome is not None:
        run.counts = {kind: asdict(counts) for kind, counts in outcome.counts.items()}
        run.events = outcome.events
        jobs = outcome.counts.get("jobs")
        if jobs is not None and jobs.created + jobs.removed >= RESHAPED_JOBS:
            plan_statistics_refresh()  # committed already: a new plan's worth of rows
    if _fold_repeat(run):
        run.delete()  # the claim row; the returned object still describes this run
    else:
        run.save()
    freshness_reset()
    return run


def _fold_repeat(run: SyncRun) -> bool:
    """Count `run` on the latest row if it changed nothing and ended the same way."""
    if _changed_something(run):
        return False
    earlier = SyncRun.objects.exclude(status=SyncRun.Status.RUNNING).exclude(pk=run.pk)
    if run.status == SyncRun.Status.SKIPPED:
        earlier = earlier.filter(status=SyncRun.Status.SKIPPED, host=run.host)
    else:
        earlier = earlier.exclude(status=SyncRun.Status.SKIPPED)
    latest = earlier.order_by("-started_at", "-id").first()
    if latest is None or _outcome(latest) != _outcome(run):
        return False
    if latest.started_at < run.started_at - FOLD_WINDOW:
        return False  # a new row now and then keeps a timeline, and lets retention work
    folded = SyncRun.objects.filter(pk=latest.pk).update(
        repeats=F("repeats") + 1, last_finished_at=run.finished_at
    )
    return bool(folded)


def _changed_something(run: SyncRun) -> bool:
    kinds = run.counts.values()
    return bool(run.events) or any(
        c.get(k) for c in kinds for k in ("created", "updated", "removed")
    )


def _outcome(run: SyncRun) -> tuple:
    return (run.status, run.error, run.counts, run.events)


def _fetch(client: HwaClient, tick: Progress) -> _Snapshot:
    workstations = [ws for page in client.iter_workstations() for ws in page.items]
    tick("workstations", len(workstations))
    streams = [stream for page in client.iter_jobstreams() for stream in page.items]
    tick("streams", len(streams))
    jobs: dict[str, JobRecord] = {}
    for page in client.iter_jobs():
        # Keyed by id: a job listed twice (the plan moved between pages) counts once.
        jobs.update((job.hwa_id, job) for job in page.items)
        tick("jobs", len(page.items))
    return _Snapshot(workstations, streams, jobs)


# --- applying a snapshot -----------------------------------------------------------------
def _apply(mirror: MirrorWriter, snapshot: _Snapshot, *, now: datetime) -> _Outcome:
    outcome = _Outcome()
    ws_ids = _apply_workstations(mirror, snapshot, now, outcome)
    streams = _wanted_streams(snapshot)
    stream_ids = _apply_streams(mirror, streams, ws_ids, now, outcome)
    _apply_jobs(mirror, snapshot, ws_ids, stream_ids, now, outcome)
    _remove_streams(mirror, streams, stream_ids, outcome)
    return outcome


def _apply_workstations(
    mirror: MirrorWriter, snapshot: _Snapshot, now: datetime, outcome: _Outcome
) -> dict[str, int]:
    wanted: dict[str, tuple[str, str]] = {
        ws.name: (ws.type or "", ws.link_state or "") for ws in snapshot.workstations
    }
    # Referenced but not listed (e.g. a workstation HWA's query does not return): keep the link.
    referenced = {s.workstation for s in snapshot.streams}
    referenced |= {j.workstation for j in snapshot.jobs.values()}
    if None in referenced:  # an object without a workstation goes on "UNKNOWN"
        referenced = (referenced - {None}) | {"UNKNOWN"}
    for name in referenced - wanted.keys():
        wanted[name] = ("", "")
    existing = {ws.name: ws for ws in Workstation.objects.all()}
    counts = outcome.counts.setdefault("workstations", KindCounts())
    new, changed = [], []
    for name, (kind, link) in wanted.items():
        row = existing.get(name)
        if row is None:
            new.append(Workstation(name=name, type=kind, link_state=link, updated_at=now))
        elif row.gone_at is not None or (
            (row.type, row.link_state) != (kind, link) and (kind or link)
        ):
            if kind or link:
                row.type, row.link_state = kind, link
            row.gone_at, row.updated_at = None, now  # listed (again)
            changed.append(row)
        else:
            counts.unchanged += 1
    gone = [row for name, row in existing.items() if name not in wanted and row.gone_at is None]
    for row in gone:
        row.gone_at = row.updated_at = now
    mirror.create(Workstation, new)
    mirror.update(Workstation, changed + gone, ["type", "link_state", "gone_at", "updated_at"])
    counts.created, counts.updated, counts.removed = len(new), len(changed), len(gone)
    return dict(Workstation.objects.values_list("name", "id"))


def _wanted_streams(snapshot: _Snapshot) -> dict[str, JobStreamRecord]:
    wanted = {stream.hwa_id: stream for stream in snapshot.streams}
    job_states: dict[str, list[str]] = defaultdict(list)
    for job in snapshot.jobs.values():
        key = job_stream_key(job)
        job_states[key].append(job.internal_state or "")
        if key not in wanted:  # a job whose stream was not listed: mirror what the job says
            wanted[key] = JobStreamRecord(
                hwa_id=key,
                name=job.stream_name or "?",
                workstation=job.workstation,
                scheduled_time=job.stream_scheduled_time,
            )
    now = timezone.now()
    for key, stream in wanted.items():
        if not stream.internal_state:  # HWA did not say: the state its jobs imply
            due = stream.scheduled_time is None or stream.scheduled_time <= now
            state = stream_state(job_states[key], due=due)
            wanted[key] = dataclasses.replace(stream, internal_state=state)
    return wanted


def _apply_streams(mirror, wanted, ws_ids, now, outcome) -> dict[str, int]:
    fields = ("name", "workstation_id", "scheduled_time", "state")
    # Plain tuples, not model instances: building 10,000 instances per run was a third of
    # an unchanged re-sync.
    existing = {
        row[0]: row[1:] for row in JobStream.objects.values_list("hwa_id", "id", *fields).order_by()
    }
    counts = outcome.counts.setdefault("streams", KindCounts())
    new, changed = [], []
    for key, rec in wanted.items():
        values = (
            rec.name[:64],
            ws_ids.get(rec.workstation) or _fallback_ws(mirror, ws_ids),
            rec.scheduled_time,
            rec.internal_state or "",
        )
        row = existing.get(key)
        if row is not None and row[1:] == values:
            counts.unchanged += 1
            continue
        stream = JobStream(hwa_id=key, updated_at=now, **dict(zip(fields, values, strict=True)))
        if row is None:
            new.append(stream)
        else:
            stream.pk = row[0]
            changed.append(stream)
    mirror.create(JobStream, new)
    mirror.update(JobStream, changed, [*fields, "updated_at"])
    counts.created, counts.updated = len(new), len(changed)
    return dict(JobStream.objects.values_list("hwa_id", "id").order_by())


def _fallback_ws(mirror: MirrorWriter, ws_ids: dict[str, int]) -> int:
    """The workstation for an object HWA gave none: an "UNKNOWN" one, made on demand."""
    if "UNKNOWN" not in ws_ids:
        ws_ids["UNKNOWN"] = mirror.get_or_create(
            Workstation, {"type": "", "link_state": ""}, name="UNKNOWN"
        ).id
    return ws_ids["UNKNOWN"]


def _values_of(mirror, ws_ids, stream_ids) -> Callable[[JobRecord], tuple]:
    """The synced values (mirror.JOB_SYNCED_FIELDS) of a listed job, ids from this run."""

    def values_of(job: JobRecord) -> tuple:
        ws_id = ws_ids.get(job.workstation) or _fallback_ws(mirror, ws_ids)
        stream_id = stream_ids[job_stream_key(job)]
        return job_synced_values(job, stream_id=stream_id, workstation_id=ws_id)

    return values_of


def _mirror_compare(jobs: dict[str, JobRecord], values_of) -> tuple[dict, dict[str, tuple], list]:
    """The mirror's jobs against the listed ones, in one pass over its rows: (the listed jobs
    it lacks, (id, state, digest) of those whose digest moved, ids of those no longer
    listed). Only what differs is kept: holding every row (hwa_id, id, state, digest) of
    100,000 jobs for the run was ~25 MB of a re-sync's peak; of 1 % changed, ~1,000 are.

    A listed job's digest (Job.sync_hash) is computed afresh as its row goes by (~1 µs a
    job, mirror.job_digest) and not kept: remembering them from run to run saved ~0.15 s
    of a 100,000-job re-sync for ~14 MB kept between runs, and a table of this run's ~8 MB
    more of its peak."""
    new = dict.fromkeys(jobs)  # the same key objects: only the table is new
    moved: dict[str, tuple] = {}
    gone: list[int] = []
    rows = Job.objects.values_list("hwa_id", "id", "internal_state", "sync_hash").order_by()
    for hwa_id, pk, state, digest in rows.iterator(chunk_size=5000):
        if new.pop(hwa_id, _ABSENT) is _ABSENT:
            gone.append(pk)
        elif job_digest(values_of(jobs[hwa_id])) != digest:
            moved[hwa_id] = (pk, state, digest)
    return new, moved, gone


_ABSENT = object()


def _job_rows(jobs: dict[str, JobRecord], ids: Iterable[str], values_of, now) -> Iterator[tuple]:
    """Rows (mirror.JOB_COLUMNS order) of these jobs, made as needed."""
    for hwa_id in ids:
        values = values_of(jobs[hwa_id])
        yield (hwa_id, *values, now, job_digest(values))


def _apply_jobs(mirror, snapshot, ws_ids, stream_ids, now, outcome) -> None:
    counts = outcome.counts.setdefault("jobs", KindCounts())
    values_of = _values_of(mirror, ws_ids, stream_ids)
    new, moved, gone = _mirror_compare(snapshot.jobs, values_of)
    counts.created, counts.updated = len(new), len(moved)
    counts.unchanged = len(snapshot.jobs) - len(new) - len(moved)
    # Written UPSERT_CHUNK jobs at a time, each chunk's events with it, all in the run's one
    # transaction: a full sync of 100,000 jobs no longer holds every row, every returned
    # (id, hwa_id, state) and every event at once on top of the plan (~60 MB of its peak).
    rows = _job_rows(snapshot.jobs, itertools.chain(moved, new), values_of, now)
    while chunk := list(itertools.islice(rows, UPSERT_CHUNK)):
        written = mirror.jobs_upsert(chunk, moved)
        del chunk
        outcome.events += mirror.insert_rows(
            JobStatusEvent,
            ("job_id", "from_state", "to_state", "at"),
            _events(written, moved, now),
        )
    mirror.jobs_delete(gone)
    counts.removed = len(gone)


def _events(written: list[tuple[int, str, str]], moved: dict, now: datetime) -> Iterator[tuple]:
    """A JobStatusEvent row for each written job that is new or whose state moved."""
    for pk, hwa_id, state in written:
        before = moved.get(hwa_id)
        from_state = before[1] if before else ""
        if before is None or from_state != state:
            yield (pk, from_state, state, now)


def _remove_streams(
    mirror: MirrorWriter,
    wanted: dict[str, JobStreamRecord],
    stream_ids: dict[str, int],
    outcome: _Outcome,
) -> None:
    gone = [pk for key, pk in stream_ids.items() if key not in wanted]
    outcome.counts["streams"].removed = mirror.streams_delete_unused(gone)


def sync_summary(run: SyncRun) -> str:
    """One line saying how a run ended, for commands and logs."""
    if run.status != SyncRun.Status.OK:
        return f"Sync {run.status}: {run.error}"
    parts = [
        f"{kind} +{c['created']} ~{c['updated']} ={c['unchanged']} -{c['removed']}"
        for kind, c in run.counts.items()
    ]
    return f"Sync ok in {run.duration_s:.2f} s: {'; '.join(parts)}; {run.events} events"
