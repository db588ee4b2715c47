"""One PresetTarget per pool row, for apply_config_preset and the admin action."""

from __future__ import annotations

from functools import partial
from typing import Any

from apps.core.pools.defaults import POOL_NAMES, PRESETS
from apps.core.presets import PresetTarget


def _read(name: str) -> dict[str, Any]:
    from apps.core.selectors.pools import pool_config_get

    return pool_config_get(name=name).values()


def _apply(name: str, values: dict[str, Any], *, actor: Any, source: str) -> None:
    from apps.core.services.pools import pool_config_update

    pool_config_update(name=name, values=values, actor=actor, source=source)


def pool_preset_targets() -> list[PresetTarget]:
    return [
        PresetTarget(
            name=f"pool:{name}",
            presets=PRESETS,
            read=partial(_read, name),
            apply=partial(_apply, name),
        )
        for name in POOL_NAMES
    ]
