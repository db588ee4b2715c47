"""CORS origin writes: create, change, delete (validated, audited, applied in every process)
and the seeding of the rows from the CORS_ALLOWED_ORIGINS environment variable.

Every write bumps the "cors" config version: each process reloads its in-memory allow-list
(apps/security/cors/allowlist.py) within a second.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from apps.core.config_versions import config_version_bump
from apps.monitoring.services import audit_record
from apps.security.cors.models import ALREADY_LISTED, CorsOrigin, origin_normalize

logger = logging.getLogger(__name__)

CONFIG_AREA = "cors"
FIELDS = ("origin", "enabled", "note")
UNKNOWN_FIELD = "Unknown field {field!r}; known fields: {known}."
SEEDED_NOTE = "from CORS_ALLOWED_ORIGINS"


def _snapshot(row: CorsOrigin) -> dict[str, Any]:
    return {field: getattr(row, field) for field in FIELDS}


def _target(row: CorsOrigin) -> str:
    return f"cors_origin:{row.origin}"


def _save(row: CorsOrigin) -> None:
    """Save a validated row; the same origin saved at the same moment elsewhere is a field
    error like any duplicate, not a 500."""
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise ValidationError({"origin": [ALREADY_LISTED]}) from None


def _check_fields(values: dict[str, Any]) -> None:
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        message = UNKNOWN_FIELD.format(field=unknown[0], known=", ".join(FIELDS))
        raise ValidationError({unknown[0]: [message]})


@transaction.atomic
def cors_origin_create(*, values: dict[str, Any], actor: Any, source: str) -> CorsOrigin:
    """Validate and add an origin (ValidationError by field: nothing saved then)."""
    _check_fields(values)
    row = CorsOrigin(**values)
    row.full_clean()
    _save(row)
    audit_record(
        actor=actor,
        source=source,
        action="cors_origin.create",
        target=_target(row),
        after=_snapshot(row),
    )
    config_version_bump(CONFIG_AREA)
    return row


@transaction.atomic
def cors_origin_update(
    *, cors_origin: CorsOrigin, values: dict[str, Any], actor: Any, source: str
) -> CorsOrigin:
    """Validate and save new values for a row; nothing is recorded if nothing changed."""
    _check_fields(values)
    row = CorsOrigin.objects.select_for_update().get(pk=cors_origin.pk)
    before = _snapshot(row)
    for field, value in values.items():
        setattr(row, field, value)
    row.full_clean()
    after = _snapshot(row)
    if after == before:
        return row
    _save(row)
    audit_record(
        actor=actor,
        source=source,
        action="cors_origin.update",
        target=_target(row),
        before=before,
        after=after,
    )
    config_version_bump(CONFIG_AREA)
    return row


@transaction.atomic
def cors_origin_delete(*, cors_origin: CorsOrigin, actor: Any, source: str) -> None:
    """Remove a row: the origin is refused everywhere within a second."""
    before = _snapshot(cors_origin)
    CorsOrigin.objects.filter(pk=cors_origin.pk).delete()
    audit_record(
        actor=actor,
        source=source,
        action="cors_origin.delete",
        target=_target(cors_origin),
        before=before,
    )
    config_version_bump(CONFIG_AREA)


def cors_origins_seed(*, origins: Iterable[str], source: str = "migrate") -> list[CorsOrigin]:
    """Add a row for each of `origins` that has none; existing rows are left as they are.

    So an origin an administrator disabled stays disabled; one deleted comes back while the
    environment still lists it. Invalid entries are skipped here (system check security.E310
    names them and stops `migrate` before it gets here).
    """
    wanted = []
    for text in origins:
        try:
            wanted.append(origin_normalize(text))
        except ValidationError:
            logger.warning("CORS_ALLOWED_ORIGINS: %r is not an origin; skipped", text)
    if not wanted or CorsOrigin._meta.db_table not in connection.introspection.table_names():
        return []  # nothing to seed, or migrated back to before the table existed
    existing = set(CorsOrigin.objects.filter(origin__in=wanted).values_list("origin", flat=True))
    created = []
    for origin in dict.fromkeys(wanted):
        if origin not in existing:
            values = {"origin": origin, "note": SEEDED_NOTE}
            created.append(cors_origin_create(values=values, actor=None, source=source))
    return created
