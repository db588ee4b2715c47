from __future__ import annotations

from apps.core.pools.defaults import PRESETS
from apps.core.pools.validation import (
    LIFETIME_NOT_ABOVE_IDLE,
    MIN_GT_MAX,
    NOT_AN_INTEGER,
    pool_values_errors,
)

VALID = {**PRESETS["current"], "max_waiting": 0}


def test_both_presets_are_valid():
    for values in PRESETS.values():
        assert pool_values_errors({**values, "max_waiting": 0}) == {}


def test_min_above_max_names_min_size():
    errors = pool_values_errors({**VALID, "min_size": 21})
    assert errors == {"min_size": [MIN_GT_MAX.format(min=21, max=20)]}


def test_lifetime_must_exceed_idle():
    errors = pool_values_errors({**VALID, "max_lifetime": 300})
    assert errors == {"max_lifetime": [LIFETIME_NOT_ABOVE_IDLE.format(life=300, idle=300)]}


def test_timeouts_must_be_positive_and_within_backend_limits():
    errors = pool_values_errors({**VALID, "connection_timeout": 0, "max_size": 100_000})
    assert set(errors) == {"connection_timeout", "max_size"}


def test_types_are_checked():
    assert pool_values_errors({**VALID, "max_size": "20"})["max_size"] == [NOT_AN_INTEGER]
    assert pool_values_errors({**VALID, "max_size": True})["max_size"] == [NOT_AN_INTEGER]
