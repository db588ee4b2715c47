"""The one place pool settings are validated (admin forms, the API and presets use it)."""

from __future__ import annotations

from typing import Any

from apps.core.models.pools import EDITABLE_FIELDS, MAX_POOL_SIZE, MAX_SECONDS

MIN_GT_MAX = "min_size ({min}) must not exceed max_size ({max})."
LIFETIME_NOT_ABOVE_IDLE = "max_lifetime ({life} s) must be longer than idle_timeout ({idle} s)."
NOT_AN_INTEGER = "Must be a whole number."
OUT_OF_RANGE = "Must be between {low} and {high}."
MISSING = "This field is required."

# (lowest, highest) each backend accepts; timeouts must be positive.
RANGES: dict[str, tuple[int, int]] = {
    "min_size": (0, MAX_POOL_SIZE),
    "max_size": (1, MAX_POOL_SIZE),
    "idle_timeout": (1, MAX_SECONDS),
    "connection_timeout": (1, 600),
    "health_check_interval": (1, MAX_SECONDS),
    "max_lifetime": (1, MAX_SECONDS),
    "max_waiting": (0, 100_000),
}


def pool_values_errors(values: dict[str, Any]) -> dict[str, list[str]]:
    """Field -> messages for a full set of pool values; empty when they are valid."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, int] = {}
    for field in EDITABLE_FIELDS:
        value = values.get(field)
        if value is None:
            errors[field] = [MISSING]
        elif isinstance(value, bool) or not isinstance(value, int):
            errors[field] = [NOT_AN_INTEGER]
        elif not RANGES[field][0] <= value <= RANGES[field][1]:
            low, high = RANGES[field]
            errors[field] = [OUT_OF_RANGE.format(low=low, high=high)]
        else:
            clean[field] = value
    if {"min_size", "max_size"} <= clean.keys() and clean["min_size"] > clean["max_size"]:
        errors.setdefault("min_size", []).append(
            MIN_GT_MAX.format(min=clean["min_size"], max=clean["max_size"])
        )
    if {"idle_timeout", "max_lifetime"} <= clean.keys() and (
        clean["max_lifetime"] <= clean["idle_timeout"]
    ):
        errors.setdefault("max_lifetime", []).append(
            LIFETIME_NOT_ABOVE_IDLE.format(life=clean["max_lifetime"], idle=clean["idle_timeout"])
        )
    return errors
