"""Fast bulk inserts of plain rows, and deletes in bounded batches.

The ORM's bulk_create builds a model instance per row and prepares every value in
Python, which dominates loading 100,000 rows. On PostgreSQL rows go through COPY instead;
elsewhere they fall back to bulk_create. Callers pass explicit primary keys and call
`reset_sequences` afterwards, so related rows can refer to ids without a round trip.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.core.management.color import no_style
from django.db import connection, models, transaction

BATCH_SIZE = 5000


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert rows (tuples in `columns` order; FK columns by their attname, e.g. job_id)."""
    if connection.vendor == "postgresql":
        return _copy(model, columns, rows)
    return _bulk_create(model, columns, rows)


def reset_sequences(*model_classes: type[models.Model]) -> None:
    """Move id sequences past explicitly inserted ids."""
    statements = connection.ops.sequence_reset_sql(no_style(), model_classes)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _copy(model, columns, rows) -> int:
    quote = connection.ops.quote_name
    names = ", ".join(quote(model._meta.get_field(c).column) for c in columns)
    sql = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
    count = 0
    with connection.cursor() as cursor, cursor.connection.cursor().copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _bulk_create(model, columns, rows) -> int:
    objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
    model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
    return len(objects)


@dataclass(frozen=True, slots=True)
class Deleted:
    """How many rows a batched delete removed, and whether it got through all of them."""

    count: int
    complete: bool


def delete_in_batches(
    queryset: models.QuerySet,
    *,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    deadline: float | None = None,
    before: Callable[[models.QuerySet], None] | None = None,
) -> Deleted:
    """Delete the rows of `queryset`, at most `batch_size` per statement and transaction.

    Each batch is bounded by a primary-key range: the id of the batch_size-th matching
    row, then DELETE ... WHERE <the filter> AND id <= it. Never one DELETE over a whole
    backlog, which would hold its locks and grow the WAL for as long as it runs. Stops
    early (complete=False) once `deadline` (time.monotonic()) has passed. `before(batch)`
    runs in each batch's transaction just before its DELETE (the audit log records its
    pruning checkpoint there).
    """
    label, deleted = queryset.model._meta.label, 0
    ordered = queryset.order_by("pk").values_list("pk", flat=True)
    while deadline is None or time.monotonic() < deadline:
        boundary = list(ordered[batch_size - 1 : batch_size])
        batch = queryset.filter(pk__lte=boundary[0]) if boundary else queryset
        with transaction.atomic():
            if before is not None:
                before(batch)
            count = batch.delete()[1].get(label, 0)
        deleted += count
        if progress is not None:
            progress(count)
        if not boundary:
            return Deleted(deleted, True)
    return Deleted(deleted, False)
