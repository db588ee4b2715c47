"""Turn HWA JSON (v1 or v2 shapes) into the typed records of `types`.

HWA's field names are only partly confirmed by public sources (see docs hwa-api.md), so
each field is looked up under every spelling seen: v1 nests the stream under
`jobStreamInPlan`/`key` and workstations under `workstationKey`, v2 flattens them
(`jobStreamName`, `workstation`). Optional fields may be absent or null; unknown states
are kept verbatim. Only a record's identity (id, name) is required: without it the record
cannot be mirrored, so its absence is a protocol error naming the field.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from apps.core.hwa.errors import BAD_FIELD, MISSING_FIELD, UNEXPECTED_SHAPE, HwaProtocolError
from apps.core.hwa.types import JobRecord, JobStreamRecord, WorkstationRecord

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
