"""The audit log's hash chain: appending a row, signing a pruning checkpoint, verifying.

CONTENT. A row's hash is the SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8)
of its CHAINED_FIELDS, `prev_hash` (the previous row's hash) included. Values are put in one
form whatever the database gave back: times in UTC with microseconds, addresses compressed,
JSON values as JSON. Empty values (None, "") are left out, so a column added later leaves
the older rows' hashes as they were. The id is not hashed (it is known only once inserted);
the chain's order is the id order, and the links say which row follows which.

APPENDING. The previous row's hash is read and the new row inserted under one lock, in one
transaction, so concurrent writers never fork the chain: `pg_advisory_xact_lock` on
PostgreSQL, and on SQLite the IMMEDIATE transaction (settings) already serializes writers.

PRUNING. Retention deletes the oldest rows (a prefix of the chain, in batches); each batch's
transaction also records a checkpoint: the last deleted row's id and hash, signed with an
HMAC whose key derives from the newest RESYNC_ENCRYPTION_KEYS key (any configured key
verifies). The first row left then follows the checkpoint instead of the start of the log.

VERIFYING. `chain_verify` walks the rows in id order, a batch at a time (constant memory),
and names the first row that was edited, deleted or inserted. What no chain can show: the
newest rows deleted, or every row from some point on rewritten with new hashes by someone
who can write to the database. Keep the head it reports (id and hash) somewhere else and
give it to a later walk (`known_head`, `verify_audit_log --head ID:HASH`): that row must
still be there with that hash, or have been pruned.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.utils.crypto import constant_time_compare, salted_hmac

from apps.monitoring.models import AuditCheckpoint, AuditEvent

CHAINED_FIELDS = (
    "at",
    "actor_name",
    "auth",
    "source",
    "action",
    "target",
    "before",
    "after",
    "outcome",
    "detail",
    "request_id",
    "ip",
    "method",
    "route",
    "status",
    "duration_ms",
    "prev_hash",
)
# pg_advisory_xact_lock key: "AUDIT" in ASCII, recognisable in pg_locks.
LOCK_KEY = 0x41_5544_4954
CHECKPOINT_SALT = "resync.audit.checkpoint"
VERIFY_BATCH = 2000

EDITED = "Row {id} was edited: its content no longer matches its hash."
INSERTED = "Row {id} was inserted: the row after it follows the row before it."
INSERTED_BEFORE_CHECKPOINT = (
    "Row {id} was inserted: it is not newer than the pruning checkpoint (row {checkpoint})."
)
DELETED_BETWEEN = (
    "Rows between {before} and {after} were deleted (or row {before} was rewritten with a new "
    "hash): row {after} does not follow it."
)
DELETED_BEFORE = "Rows before {after} were deleted: row {after} does not follow {start}."
START_OF_LOG = "the start of the log"
START_CHECKPOINT = "the pruning checkpoint (row {id})"
HEAD_REWRITTEN = (
    "Row {id} no longer has the hash recorded for it earlier: the log was rewritten from there on."
)
HEAD_GONE = "Row {id}, recorded earlier as the head, is gone: the newest rows were deleted."
CHECKPOINT_FORGED = (
    "The pruning checkpoint (row {id}) is signed by no key of RESYNC_ENCRYPTION_KEYS: it was "
    "forged or edited, or the key that signed it was removed."
)


# --- content and hashes ------------------------------------------------------------------
def _normal(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "at":
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if name == "ip":
        return ipaddress.ip_address(value).compressed if value else None
    if name in ("before", "after"):
        return json.loads(json.dumps(value))  # tuples become lists, keys strings: as stored
    if name == "duration_ms":
        return float(value)
    return value


def canonical(values: Mapping[str, Any]) -> bytes:
    """The bytes a row's hash covers (`values`: its CHAINED_FIELDS, prev_hash included)."""
    content = {}
    for name in CHAINED_FIELDS:
        value = _normal(name, values.get(name))
        if value is not None and value != "":
            content[name] = value
    text = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode()


def row_hash(values: Mapping[str, Any]) -> str:
    """The hash a row with these values must carry."""
    return hashlib.sha256(canonical(values)).hexdigest()


def _values(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in CHAINED_FIELDS}


# --- appending ---------------------------------------------------------------------------
def chain_lock(using: str) -> None:
    """Serialize chain writers until the current transaction ends."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
    # SQLite: the transaction began IMMEDIATE (settings), which holds the write lock already.


def chain_head_hash(using: str) -> str:
    """The hash the next row must follow: the newest row's, else the checkpoint's, else ""."""
    newest = AuditEvent.objects.using(using).order_by("-id").values_list("hash", flat=True)
    head = newest.first()
    if head is not None:
        return head
    checkpoint = AuditCheckpoint.objects.using(using).order_by("-last_id").first()
    return checkpoint.last_hash if checkpoint else ""


def chain_append(event: AuditEvent, *, save: Callable[..., None], **save_kwargs: Any) -> None:
    """Link `event` to the newest row and insert it with `save`, under the chain lock."""
    using = save_kwargs.get("using") or router.db_for_write(AuditEvent)
    with transaction.atomic(using=using):
        chain_lock(using)
        event.prev_hash = chain_head_hash(using)
        event.hash = row_hash(_values(event))
        save(**save_kwargs)


# --- checkpoints -------------------------------------------------------------------------
def checkpoint_signature(last_id: int, last_hash: str, *, key: str | None = None) -> str:
    """HMAC-SHA256 of a checkpoint, keyed from `key` (default: the newest encryption key)."""
    secret = key if key is not None else settings.RESYNC_ENCRYPTION_KEYS[0]
    message = f"{last_id}:{last_hash}"
    return salted_hmac(CHECKPOINT_SALT, message, secret=secret, algorithm="sha256").hexdigest()


def checkpoint_valid(checkpoint: AuditCheckpoint) -> bool:
    """Was this checkpoint signed with one of the configured keys?"""
    return any(
        constant_time_compare(
            checkpoint_signature(checkpoint.last_id, checkpoint.last_hash, key=key),
            checkpoint.signature,
        )
        for key in settings.RESYNC_ENCRYPTION_KEYS
    )


# --- verifying ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChainReport:
    """What a walk of the chain found: how much it checked, and the first break if any."""

    rows: int
    first_id: int | None
    head_id: int | None
    head_hash: str
    checkpoint_id: int | None
    problem: str = ""
    problem_id: int | None = None

    @property
    def intact(self) -> bool:
        return not self.problem


def _rows(batch: int) -> Iterator[dict[str, Any]]:
    """Every row's chained values, hash and id, in id order, `batch` rows per query."""
    fields = ("id", *CHAINED_FIELDS, "hash")
    after: int | None = None
    while True:
        query = AuditEvent.objects.order_by("id")
        if after is not None:
            query = query.filter(id__gt=after)
        chunk = list(query.values(*fields)[:batch])
        yield from chunk
        if len(chunk) < batch:
            return
        after = chunk[-1]["id"]


@dataclass(slots=True)
class _Walk:
    """The walk's position: the last good row (or the checkpoint) and the one before it."""

    expected: str  # the prev_hash the next row must carry
    previous_id: int | None
    checkpoint_id: int | None
    before_previous: str | None = None  # the hash the previous row followed
    first_id: int | None = None
    rows: int = 0
    passed_known: bool = False  # went through the row of the head given to chain_verify

    def advance(self, row: dict[str, Any], known_id: int | None) -> None:
        self.first_id = row["id"] if self.first_id is None else self.first_id
        self.before_previous, self.expected = self.expected, row["hash"]
        self.previous_id = row["id"]
        self.rows += 1
        self.passed_known = self.passed_known or row["id"] == known_id

    def report(self, problem: str = "", problem_id: int | None = None) -> ChainReport:
        head_id = self.previous_id if self.rows else None
        return ChainReport(
            self.rows,
            self.first_id,
            head_id,
            self.expected,
            self.checkpoint_id,
            problem,
            problem_id,
        )


def chain_verify(
    *, batch: int = VERIFY_BATCH, known_head: tuple[int, str] | None = None
) -> ChainReport:
    """Walk the whole chain; the report names the first row edited, deleted or inserted.

    `known_head` (id, hash), a head an earlier walk reported: that row must still be in the
    chain with that hash, unless it was pruned since.
    """
    checkpoint = AuditCheckpoint.objects.order_by("-last_id").first()
    checkpoint_id = checkpoint.last_id if checkpoint else None
    if checkpoint is not None and not checkpoint_valid(checkpoint):
        return ChainReport(
            0, None, None, "", checkpoint_id, CHECKPOINT_FORGED.format(id=checkpoint_id)
        )
    walk = _Walk(
        expected=checkpoint.last_hash if checkpoint else "",
        previous_id=checkpoint_id,
        checkpoint_id=checkpoint_id,
    )
    known_id, known_hash = known_head or (None, None)
    rows = _rows(batch)
    for row in rows:
        problem = _problem(row, walk, rows)
        if problem is None and row["id"] == known_id and row["hash"] != known_hash:
            problem = HEAD_REWRITTEN.format(id=known_id), known_id
        if problem is not None:
            return walk.report(*problem)
        walk.advance(row, known_id)
    pruned = checkpoint_id is not None and known_id is not None and known_id <= checkpoint_id
    if known_id is not None and not walk.passed_known and not pruned:
        return walk.report(HEAD_GONE.format(id=known_id), known_id)
    return walk.report()


def _problem(
    row: dict[str, Any], walk: _Walk, rows: Iterator[dict[str, Any]]
) -> tuple[str, int] | None:
    """None if `row` follows the walk; else what broke the chain, and at which row."""
    row_id, checkpoint_id = row["id"], walk.checkpoint_id
    if checkpoint_id is not None and row_id <= checkpoint_id:
        return INSERTED_BEFORE_CHECKPOINT.format(id=row_id, checkpoint=checkpoint_id), row_id
    content_ok = row_hash(row) == row["hash"]
    linked = row["prev_hash"] == walk.expected
    if content_ok and linked:
        return None
    if not linked and walk.rows and row["prev_hash"] == walk.before_previous:
        # This row follows the one before the previous: the previous row was slipped in.
        return INSERTED.format(id=walk.previous_id), walk.previous_id
    following = next(rows, None)
    if following is not None and following["prev_hash"] == walk.expected:
        return INSERTED.format(id=row_id), row_id
    if not content_ok:
        return EDITED.format(id=row_id), row_id
    if walk.previous_id is None:
        return DELETED_BEFORE.format(after=row_id, start=START_OF_LOG), row_id
    if walk.rows == 0:
        start = START_CHECKPOINT.format(id=walk.previous_id)
        return DELETED_BEFORE.format(after=row_id, start=start), row_id
    return DELETED_BETWEEN.format(before=walk.previous_id, after=row_id), row_id
