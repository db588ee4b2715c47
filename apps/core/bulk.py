"""Fast bulk inserts of plain rows.

The ORM's bulk_create builds a model instance per row and prepares every value in
Python, which dominates loading 100,000 rows. On PostgreSQL rows go through COPY instead;
elsewhere they fall back to bulk_create. Callers pass explicit primary keys and call
`reset_sequences` afterwards, so related rows can refer to ids without a round trip.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.core.management.color import no_style
from django.db import connection, models

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
