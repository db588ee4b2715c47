"""Named configuration presets (`current`, `recommended`) across every editable area.

Each area (a pool, the cache) registers a PresetTarget in its AppConfig.ready(): the
values each preset holds, how to read the live values, and how to apply new ones through
its own service (which validates, audits and bumps the config version). The
`apply_config_preset` command and the admin actions use only this module, so every area
gets the same diff and the same audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from apps.core.errors import ApplicationError

UNKNOWN_PRESET = "Unknown preset {name!r}; known presets: {known}."
PRESET_INVALID = "Preset {name!r} does not fit {target}: {errors}"


@dataclass(frozen=True)
class PresetTarget:
    """One configurable thing that presets can set."""

    name: str  # e.g. "pool:database", "cache:default"
    presets: Mapping[str, Mapping[str, Any]]
    read: Callable[[], dict[str, Any]]
    # apply(values, actor=..., source=...) saves through the area's service.
    apply: Callable[..., Any]


@dataclass(frozen=True)
class PresetChange:
    """One field a preset would change."""

    target: str
    field: str
    before: Any
    after: Any


_targets: dict[str, PresetTarget] = {}


def register(target: PresetTarget) -> None:
    _targets[target.name] = target


def targets(prefix: str = "") -> list[PresetTarget]:
    """Registered targets, optionally only those whose name starts with `prefix`."""
    return [_targets[name] for name in sorted(_targets) if name.startswith(prefix)]


def preset_names() -> list[str]:
    return sorted({name for target in _targets.values() for name in target.presets})


def preset_diff(name: str, *, prefix: str = "") -> list[PresetChange]:
    """What applying preset `name` (to targets named `prefix`...) would change."""
    _check(name)
    changes = []
    for target in targets(prefix):
        values = target.presets.get(name)
        if values is None:
            continue
        live = target.read()
        changes += [
            PresetChange(target.name, field, live.get(field), value)
            for field, value in values.items()
            if live.get(field) != value
        ]
    return changes


def preset_apply(name: str, *, actor: Any, source: str, prefix: str = "") -> list[PresetChange]:
    """Apply preset `name` to every target (named `prefix`...) defining it; returns changes."""
    changes = preset_diff(name, prefix=prefix)
    changed_targets = {change.target for change in changes}
    for target in targets(prefix):
        if target.name in changed_targets:
            try:
                target.apply(dict(target.presets[name]), actor=actor, source=source)
            except ValidationError as exc:  # e.g. more memory than this machine allows
                raise ApplicationError(_invalid(target, name, exc)) from exc
    return changes


def _invalid(target: PresetTarget, name: str, exc: ValidationError) -> str:
    errors = "; ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())
    return PRESET_INVALID.format(name=name, target=target.name, errors=errors)


def _check(name: str) -> None:
    known = preset_names()
    if name not in known:
        raise ApplicationError(UNKNOWN_PRESET.format(name=name, known=", ".join(known) or "none"))
