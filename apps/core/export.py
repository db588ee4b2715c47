"""Plan export: rows of plain values turned into CSV or NDJSON, a chunk of bytes at a time.

An export may hold the whole plan (a million jobs), so nothing here builds a list of it:
rows come from a database cursor (apps.core.selectors.job_export_rows) as tuples, and each
CHUNK_ROWS of them become one bytes chunk for a StreamingHttpResponse. Memory stays that of
one chunk whatever the plan's size.

Times come as ISO 8601 text in UTC ("Z"), whatever TIME_ZONE: a file outlives the server
that wrote it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date
from itertools import islice

import orjson
from django.utils.http import content_disposition_header

CSV = "csv"
NDJSON = "ndjson"
FORMATS = (CSV, NDJSON)
CONTENT_TYPES = {CSV: "text/csv; charset=utf-8", NDJSON: "application/x-ndjson"}
# Rows per chunk written to the client: big enough that a chunk is worth a write (about
# 150 KB of CSV, 300 KB of NDJSON), small enough that its memory does not matter.
CHUNK_ROWS = 1000

# The columns of a job export, in file order (CSV header, NDJSON keys): the list API's
# fields, with the workstation and stream by name.
JOB_COLUMNS = (
    "id",
    "hwa_id",
    "name",
    "status",
    "internal_state",
    "workstation",
    "stream",
    "stream_scheduled_time",
    "return_code",
    "start",
    "end",
    "rerun_count",
    "updated_at",
)
# Positions of the columns that hold text from HWA.
_TEXT_COLUMNS = tuple(
    i
    for i, name in enumerate(JOB_COLUMNS)
    if name in ("hwa_id", "name", "internal_state", "workstation", "stream")
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection,
# OWASP): such text gets a leading apostrophe, which spreadsheets show as plain text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_filename(kind: str, plan_date: date, fmt: str) -> str:
    """`resync-jobs-2026-11-28.csv`: what the export holds, of which plan day, in what form."""
    return f"resync-{kind}-{plan_date.isoformat()}.{fmt}"


def attachment_header(filename: str) -> str:
    """The Content-Disposition value that makes browsers save the export as `filename`."""
    return content_disposition_header(as_attachment=True, filename=filename)


def chunks(rows: Iterable[tuple], fmt: str) -> Iterator[bytes]:
    """The export of `rows` (tuples of str, int or None in JOB_COLUMNS order) in `fmt`, one
    bytes chunk at a time."""
    return _csv_chunks(rows) if fmt == CSV else _ndjson_chunks(rows)


def _batches(rows: Iterable[tuple]) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, CHUNK_ROWS)):
        yield batch


def _csv_cell_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _csv_row(row: tuple) -> list:
    cells = list(row)
    for i in _TEXT_COLUMNS:
        if cells[i]:
            cells[i] = _csv_cell_text(cells[i])
    return cells


def _csv_chunks(rows: Iterable[tuple]) -> Iterator[bytes]:
    """RFC 4180 CSV (CRLF line ends, a header line); an empty cell is a missing value."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(JOB_COLUMNS)
    for batch in _batches(rows):
        writer.writerows(_csv_row(row) for row in batch)
        yield _take(buffer)
    if buffer.tell():  # no rows: the header alone
        yield _take(buffer)


def _take(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


def _ndjson_chunks(rows: Iterable[tuple]) -> Iterator[bytes]:
    """One JSON object per line (keys JOB_COLUMNS, null for a missing value)."""
    for batch in _batches(rows):
        yield b"".join(
            orjson.dumps(dict(zip(JOB_COLUMNS, row, strict=True)), option=orjson.OPT_APPEND_NEWLINE)
            for row in batch
        )
