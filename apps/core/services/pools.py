"""Writes of pool configuration (validated by the model, audited, applied everywhere), the
config-version callback that applies it in each process, and the pools' preset targets."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.config_versions import config_version_bump
from apps.core.errors import NotFoundError, reject_unknown_fields
from apps.core.models import ConnectionPoolConfig
from apps.core.models.pools import EDITABLE_FIELDS
from apps.core.pools import CONFIG_AREA, database, hwa_http, redis
from apps.core.pools.defaults import POOL_NAMES, PRESETS, default_values
from apps.core.presets import PresetTarget
from apps.core.selectors.pools import UNKNOWN_POOL, pool_config_get, pool_config_values
from apps.monitoring.services import audit_record


@transaction.atomic
def pool_config_update(
    *, name: str, values: dict[str, Any], actor: Any, source: str
) -> ConnectionPoolConfig:
    """Change some of pool `name`'s settings; every process applies them within a second.

    Raises Django's ValidationError (by field) for unknown or bad values; saves nothing then.
    """
    if name not in POOL_NAMES:
        raise NotFoundError(UNKNOWN_POOL.format(name=name))
    reject_unknown_fields(values, known=EDITABLE_FIELDS)
    config, _ = ConnectionPoolConfig.objects.select_for_update().get_or_create(
        name=name, defaults=default_values(name)
    )
    before = config.values()
    for field, value in values.items():
        setattr(config, field, value)
    config.full_clean()
    after = config.values()
    if after == before:
        return config
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
    config_version_bump(CONFIG_AREA)
    return config


def pool_config_apply(version: int) -> None:
    """The watcher callback: give each pool its saved values (a pool whose values did not
    change keeps running as it is)."""
    values = pool_config_values()
    database.apply(values["database"], version)
    redis.apply(values["redis"], version)
    hwa_http.apply(values["hwa_http"], version)


def _preset_read(name: str) -> dict[str, Any]:
    return pool_config_get(name=name).values()


def _preset_apply(name: str, values: dict[str, Any], *, actor: Any, source: str) -> None:
    pool_config_update(name=name, values=values, actor=actor, source=source)


def pool_preset_targets() -> list[PresetTarget]:
    """One PresetTarget per pool row, for apply_config_preset and the admin action."""
    return [
        PresetTarget(
            name=f"pool:{name}",
            presets=PRESETS,
            read=partial(_preset_read, name),
            apply=partial(_preset_apply, name),
        )
        for name in POOL_NAMES
    ]
