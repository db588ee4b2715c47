"""Turn HWA JSON (v1 or v2 shapes) into the typed records of `types`.

HWA's field names are only partly confirmed by public sources (see docs/hwa-api.md), so
each field is looked up under every spelling seen: v1 nests the stream under
`jobStreamInPlan`/`key` and workstations under `workstationKey`, v2 flattens them
(`jobStreamName`, `workstation`). Optional fields may be absent or null; unknown states
are kept verbatim. Only a record's identity (id, name) is required: without it the record
cannot be mirrored, so its absence is a protocol error naming the field.

UNCHANGED RECORDS. A listing is decoded only down to each item's raw JSON text
(`decode_listing`, msgspec `Raw` slices of the response, no Python objects built), and a
`RecordMemo` fingerprints that text and parses only items whose text it has not seen in
the previous complete listing. A re-sync where 1 % of 100,000 jobs moved thus decodes and
parses 1,000 items instead of 100,000, which was most of its time. The memo is a pure
cache of `parse(text)`: it never decides what the sync writes (the sync still compares
every job with the mirror), so a write that rolled back, another process's writes or a
restart (empty memo: every item parsed) cannot make a change go unseen.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import msgspec
import orjson

from apps.core.hwa.errors import BAD_FIELD, MISSING_FIELD, UNEXPECTED_SHAPE, HwaProtocolError
from apps.core.hwa.types import JobRecord, JobStreamRecord, WorkstationRecord

T = TypeVar("T")

_MISSING = object()


@functools.lru_cache(maxsize=256)
def _split(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def _dig(item: Mapping[str, Any], path: str) -> Any:
    value: Any = item
    for part in _split(path):
        if not isinstance(value, Mapping):
            return _MISSING
        value = value.get(part, _MISSING)
    return value


def _first(item: Mapping[str, Any], *paths: str) -> tuple[str, Any]:
    """The first spelling present and not null, as (path, value); (paths[0], None) if none."""
    for path in paths:
        value = _dig(item, path)
        if value is not _MISSING and value is not None:
            return path, value
    return paths[0], None


def _required(item: Mapping[str, Any], kind: str, *paths: str) -> str:
    path, value = _first(item, *paths)
    if value is None or value == "":
        raise HwaProtocolError(MISSING_FIELD.format(kind=kind, field=path))
    return str(value)


def _text(item: Mapping[str, Any], *paths: str) -> str | None:
    _, value = _first(item, *paths)
    if isinstance(value, Mapping):  # a workstation given as {"name": ...}
        value = value.get("name")
    return None if value is None else str(value)


def _int(item: Mapping[str, Any], kind: str, *paths: str) -> int | None:
    path, value = _first(item, *paths)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise HwaProtocolError(BAD_FIELD.format(kind=kind, field=path, value=value)) from None


def _time(item: Mapping[str, Any], kind: str, *paths: str) -> datetime | None:
    path, value = _first(item, *paths)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise HwaProtocolError(BAD_FIELD.format(kind=kind, field=path, value=value)) from None
    # HWA reports times with an offset; a bare time is taken as UTC rather than local time.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _mapping(item: Any, kind: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise HwaProtocolError(UNEXPECTED_SHAPE.format(path=kind, reason="item is not an object"))
    return item


def parse_workstation(item: Any) -> WorkstationRecord:
    """A plan workstation, from `POST /plan/current/workstation/query` items."""
    item = _mapping(item, "workstation")
    return WorkstationRecord(
        name=_required(item, "workstation", "name", "key.name", "workstationName"),
        type=_text(item, "type", "workstationType"),
        link_state=_text(item, "linkStatus", "linkState", "link"),
    )


def parse_stream(item: Any) -> JobStreamRecord:
    """A job stream instance: v1 `key: {name, startTime, workstationKey}` or v2 flat."""
    item = _mapping(item, "jobstream")
    return JobStreamRecord(
        hwa_id=_required(item, "jobstream", "id", "jobStreamId"),
        name=_required(item, "jobstream", "key.name", "name", "jobStreamName"),
        workstation=_text(item, "key.workstationKey.name", "workstation", "workstationKey.name"),
        scheduled_time=_time(
            item, "jobstream", "key.startTime", "scheduledTime", "schedTime", "startTime"
        ),
        internal_state=_text(item, "internalStatus", "status.internalStatus"),
    )


def parse_job(item: Any) -> JobRecord:
    """A job instance: v1 nests its stream under `jobStreamInPlan`, v2 flattens it."""
    if type(item) is dict:
        fast = _fast_job(item)
        if fast is not None:
            return fast
    item = _mapping(item, "job")
    return JobRecord(
        hwa_id=_required(item, "job", "id", "jobId"),
        name=_required(item, "job", "name", "jobName"),
        stream_name=_text(item, "jobStreamInPlan.name", "jobStreamName"),
        stream_hwa_id=_text(item, "jobStreamInPlan.id", "jobStreamId"),
        stream_scheduled_time=_time(
            item, "job", "jobStreamInPlan.startTime", "jobStreamSchedTime", "jobStreamStartTime"
        ),
        # A v1 job on its stream's workstation may carry no workstation of its own.
        workstation=_text(
            item, "workstationKey.name", "workstation", "jobStreamInPlan.workstationKey.name"
        ),
        internal_state=_text(item, "internalStatus", "status.internalStatus"),
        return_code=_int(item, "job", "returnCode", "status.returnCode"),
        start=_time(item, "job", "actualStart", "startTime"),
        end=_time(item, "job", "actualEnd", "endTime"),
        rerun_count=_int(item, "job", "rerunNumber", "rerunCount") or 0,
    )


def list_items(data: Any, path: str) -> list[Any]:
    """The items of a query answer: a bare array (v1) or `{"results": [...]}` (v2)."""
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping) and isinstance(data.get("results"), list):
        return data["results"]
    reason = "expected a JSON array or an object with a 'results' array"
    raise HwaProtocolError(UNEXPECTED_SHAPE.format(path=path, reason=reason))


# --- Unchanged records ----------------------------------------------------------------
class _Results(msgspec.Struct):
    """A v2 answer: `{"count": n, "results": [...]}` (other keys ignored)."""

    results: list[msgspec.Raw]


# Decodes only the listing's outer shape and finds where each item's JSON text starts and
# ends (validating it), without building the items.
_LISTING = msgspec.json.Decoder(list[msgspec.Raw] | _Results)


def decode_listing(content: bytes) -> Any:
    """A query answer with each item left as its raw JSON text (msgspec.Raw).

    ValueError if `content` is not JSON. A JSON value of another shape comes back decoded,
    so `list_items` reports the shape as it does for any answer.
    """
    try:
        data = _LISTING.decode(content)
    except msgspec.ValidationError:  # valid JSON, not a listing
        return orjson.loads(content)
    except msgspec.DecodeError as exc:  # not JSON (a ValueError, as from orjson)
        raise ValueError(str(exc)) from None
    return data.results if isinstance(data, _Results) else data


class RecordMemo(Generic[T]):
    """`parse` of raw JSON items, remembered by fingerprint from one complete listing to the next.

    Use: `seen = {}`; `records(items, seen)` for every page; `complete(seen)` after the last
    page. Only a complete listing replaces what is remembered, so the memory holds at most
    one plan's records; a listing abandoned half-way leaves it as it was. Thread-safe in
    the only sense that matters here: concurrent listings each keep their own `seen`.
    """

    def __init__(self, parse: Callable[[Any], T]) -> None:
        self._parse = parse
        self._last: dict[bytes, T] = {}

    def records(self, items: Sequence[Any], seen: dict[bytes, T]) -> tuple[T, ...]:
        """The records of one page's items (msgspec.Raw texts, parsed only when new)."""
        last, parse, blake2b, raw_type = self._last, self._parse, hashlib.blake2b, msgspec.Raw
        out = []
        for raw in items:
            if type(raw) is not raw_type:  # decoded already: nothing to save
                out.append(parse(raw))
                continue
            # 128 bits: two different texts among a plan's items sharing one is no real risk.
            key = blake2b(raw, digest_size=16).digest()
            record = seen.get(key)
            if record is None:
                record = last.get(key)
                if record is None:
                    record = parse(orjson.loads(memoryview(raw)))
                seen[key] = record
            out.append(record)
        return tuple(out)

    def complete(self, seen: dict[bytes, T]) -> None:
        """`seen` (a whole listing's records) is what the next listing can reuse."""
        self._last = seen
        # The times parsed for this listing are in its records; the cache's own entries
        # (up to 65,536 texts, times and links) need not outlive it (~3 MB of a sync loop).
        _fast_time.cache_clear()

    def __len__(self) -> int:
        return len(self._last)


# --- Fast path ----------------------------------------------------------------------------
# The generic lookups above cost ~45 µs a job, which alone would take 4.5 s per 100,000-job
# sync. Items in exactly the documented v1 or v2 shape (only known keys, plain types) are
# read here directly, giving the same record; anything else (an unknown key, an alternative
# spelling, an odd type, an unreadable time) returns None and takes the generic path, which
# also produces the precise error.
_V1_JOB_KEYS = frozenset(
    {
        "id",
        "name",
        "jobStreamInPlan",
        "internalStatus",
        "status",
        "rerunNumber",
        "workstationKey",
        "returnCode",
        "actualStart",
        "actualEnd",
    }
)
_V1_STREAM_KEYS = frozenset({"id", "name", "startTime", "workstationKey"})
_V2_JOB_KEYS = frozenset(
    {
        "flowNodeType",
        "id",
        "planId",
        "folder",
        "name",
        "workstation",
        "jobStreamId",
        "jobStreamName",
        "jobStreamSchedTime",
        "status",
        "returnCode",
        "startTime",
        "endTime",
        "rerunCount",
        "dependencies",
        "dependenciesStats",
    }
)
_NAME_ONLY = frozenset({"name"})


class _Fallback(Exception):
    """The item is not in the plain shape: use the generic path."""


@functools.lru_cache(maxsize=65536)
def _fast_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Fallback from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _opt_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if type(value) is not str:
        raise _Fallback
    return _fast_time(value)


def _opt_str(value: Any) -> str | None:
    """A text many jobs share (stream, workstation, state): one copy of it in memory.

    RecordMemo keeps a plan's records between syncs; sharing these cut 100,000 jobs'
    records from 69 to 45 MB.
    """
    if value is None:
        return None
    if type(value) is str:
        return sys.intern(value)
    raise _Fallback


def _opt_int(value: Any) -> int | None:
    if value is None or type(value) is int:
        return value
    raise _Fallback


def _ws_name(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is not dict or not _NAME_ONLY.issuperset(value):
        raise _Fallback
    return _opt_str(value.get("name"))


def _identity(item: dict) -> tuple[str, str]:
    hwa_id, name = item.get("id"), item.get("name")
    if type(hwa_id) is not str or type(name) is not str or not hwa_id or not name:
        raise _Fallback
    return hwa_id, name


def _fast_job(item: dict) -> JobRecord | None:
    try:
        if "jobStreamInPlan" in item:
            return _fast_job_v1(item)
        if "jobStreamId" in item:
            return _fast_job_v2(item)
    except _Fallback:
        return None
    return None


def _fast_job_v1(item: dict) -> JobRecord:
    stream = item["jobStreamInPlan"]
    if not _V1_JOB_KEYS.issuperset(item) or type(stream) is not dict:
        raise _Fallback
    if not _V1_STREAM_KEYS.issuperset(stream):
        raise _Fallback
    hwa_id, name = _identity(item)
    state = item.get("internalStatus")
    if type(state) is not str:  # absent: the generic path also looks under status
        raise _Fallback
    state = sys.intern(state)
    workstation = _ws_name(item.get("workstationKey"))
    if workstation is None:
        workstation = _ws_name(stream.get("workstationKey"))
    return JobRecord(
        hwa_id=hwa_id,
        name=name,
        stream_name=_opt_str(stream.get("name")),
        stream_hwa_id=_opt_str(stream.get("id")),
        stream_scheduled_time=_opt_time(stream.get("startTime")),
        workstation=workstation,
        internal_state=state,
        return_code=_opt_int(item.get("returnCode")),
        start=_opt_time(item.get("actualStart")),
        end=_opt_time(item.get("actualEnd")),
        rerun_count=_opt_int(item.get("rerunNumber")) or 0,
    )


def _fast_job_v2(item: dict) -> JobRecord:
    status = item.get("status")
    if not _V2_JOB_KEYS.issuperset(item) or type(status) is not dict:
        raise _Fallback
    hwa_id, name = _identity(item)
    workstation = item.get("workstation")
    if type(workstation) is dict:
        workstation = _ws_name(workstation)
    return JobRecord(
        hwa_id=hwa_id,
        name=name,
        stream_name=_opt_str(item.get("jobStreamName")),
        stream_hwa_id=_opt_str(item.get("jobStreamId")),
        stream_scheduled_time=_opt_time(item.get("jobStreamSchedTime")),
        workstation=_opt_str(workstation),
        internal_state=_opt_str(status.get("internalStatus")),
        return_code=_opt_int(item.get("returnCode")),
        start=_opt_time(item.get("startTime")),
        end=_opt_time(item.get("endTime")),
        rerun_count=_opt_int(item.get("rerunCount")) or 0,
    )
