"""Typed records the HWA client returns, whatever the API flavour (v1 or v2).

Every timestamp is timezone-aware UTC. Internal states are kept exactly as HWA reports
them, including states this code does not know, so that the mirror never loses data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

Flavour = Literal["v1", "v2"]
JobAction = Literal["rerun", "hold", "release", "cancel"]
JOB_ACTIONS: tuple[JobAction, ...] = ("rerun", "hold", "release", "cancel")


@dataclass(frozen=True, slots=True)
class WorkstationRecord:
    """A workstation of the current plan."""

    name: str
    type: str | None = None
    link_state: str | None = None


@dataclass(frozen=True, slots=True)
class JobStreamRecord:
    """A job stream instance of the current plan."""

    hwa_id: str
    name: str
    workstation: str | None = None
    scheduled_time: datetime | None = None
    internal_state: str | None = None


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A job instance of the current plan."""

    hwa_id: str
    name: str
    stream_name: str | None = None
    stream_hwa_id: str | None = None
    stream_scheduled_time: datetime | None = None
    workstation: str | None = None
    internal_state: str | None = None
    return_code: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    rerun_count: int = 0


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a paged query; `is_last` tells the caller the listing is complete."""

    items: tuple[T, ...]
    number: int
    is_last: bool


@dataclass(frozen=True, slots=True)
class ActionResult:
    """HWA's answer to a job action (rerun, hold, release, cancel)."""

    hwa_id: str
    action: JobAction
    messages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """The outcome of `HwaClient.test_connection()`: ok, or the exact failure text."""

    ok: bool
    detail: str
    details: dict[str, str] = field(default_factory=dict)


def records(pages: Iterable[Page[T]]) -> Iterator[T]:
    """Flatten pages into records, for callers that do not apply page by page."""
    for page in pages:
        yield from page.items
