"""Writes of pool configuration: validated in one place, audited, applied everywhere."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.config_versions import config_version_bump
from apps.core.errors import ApplicationError, NotFoundError
from apps.core.models import ConnectionPoolConfig
from apps.core.models.pools import EDITABLE_FIELDS
from apps.core.pools.defaults import POOL_NAMES, default_values
from apps.core.pools.runtime import AREA
from apps.core.pools.validation import pool_values_errors
from apps.core.selectors.pools import UNKNOWN_POOL
from apps.monitoring.services import audit_record

INVALID_POOL_VALUES = "Invalid pool settings: {fields}."
UNKNOWN_FIELDS = "Unknown pool setting(s): {fields}."


class PoolConfigInvalid(ApplicationError):
    """Pool values that fail validation; `errors` names each field."""


@transaction.atomic
def pool_config_update(
    *, name: str, values: dict[str, Any], actor: Any, source: str
) -> ConnectionPoolConfig:
    """Change some of pool `name`'s settings; every process applies them within a second."""
    if name not in POOL_NAMES:
        raise NotFoundError(UNKNOWN_POOL.format(name=name))
    unknown = sorted(set(values) - set(EDITABLE_FIELDS))
    if unknown:
        raise PoolConfigInvalid(
            UNKNOWN_FIELDS.format(fields=", ".join(unknown)),
            extra={"errors": {field: ["Unknown field."] for field in unknown}},
        )
    config, _ = ConnectionPoolConfig.objects.select_for_update().get_or_create(
        name=name, defaults=default_values(name)
    )
    before = config.values()
    after = {**before, **values}
    errors = pool_values_errors(after)
    if errors:
        raise PoolConfigInvalid(
            INVALID_POOL_VALUES.format(fields=", ".join(errors)), extra={"errors": errors}
        )
    if after == before:
        return config
    for field, value in after.items():
        setattr(config, field, value)
    config.updated_at = timezone.now()
    config.save()
    audit_record(
        actor=actor,
        source=source,
        action="pool_config.update",
        target=f"pool:{name}",
        before=before,
        after=after,
    )
    config_version_bump(AREA)
    return config
