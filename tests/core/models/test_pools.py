"""ConnectionPoolConfig holds every rule for pool values: field ranges and cross-field rules."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.core.models import ConnectionPoolConfig
from apps.core.models.pools import LIFETIME_NOT_ABOVE_IDLE, MIN_GT_MAX, OUT_OF_RANGE
from apps.core.pools.defaults import PRESETS

pytestmark = pytest.mark.django_db

VALID = {**PRESETS["current"], "max_waiting": 0}


def errors_of(**values) -> dict[str, list[str]]:
    config = ConnectionPoolConfig.objects.get(name="redis")  # a row the migration made
    for field, value in {**VALID, **values}.items():
        setattr(config, field, value)
    try:
        config.full_clean()
    except ValidationError as exc:
        return exc.message_dict
    return {}


def test_both_presets_are_valid():
    for values in PRESETS.values():
        assert errors_of(**values) == {}


def test_min_above_max_names_min_size():
    assert errors_of(min_size=21) == {"min_size": [MIN_GT_MAX.format(min=21, max=20)]}


def test_lifetime_must_exceed_idle():
    errors = errors_of(max_lifetime=300)
    assert errors == {"max_lifetime": [LIFETIME_NOT_ABOVE_IDLE.format(life=300, idle=300)]}


def test_timeouts_must_be_positive_and_within_backend_limits():
    errors = errors_of(connection_timeout=0, max_size=100_000)
    assert errors == {
        "connection_timeout": [OUT_OF_RANGE.format(low=1, high=600)],
        "max_size": [OUT_OF_RANGE.format(low=1, high=1000)],
    }


def test_a_negative_value_gets_one_message_naming_the_range():
    assert errors_of(max_waiting=-1) == {"max_waiting": [OUT_OF_RANGE.format(low=0, high=100_000)]}


def test_a_value_that_is_not_a_number_is_named_once_and_skips_the_cross_field_rules():
    errors = errors_of(max_size="many")
    assert list(errors) == ["max_size"]
    assert len(errors["max_size"]) == 1
