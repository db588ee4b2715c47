"""The rules every input serializer shares: a JSON object, known fields, ASCII whole numbers.

DRF alone accepts `{"ttl": 5}` by ignoring the unknown key (the client believes it changed
something) and takes `"٣"` or `"1_000"` as integers because Python's int() does. Config
serializers (pools, cache, any later one) derive from StrictSerializer or
StrictModelSerializer instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db import models
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings

UNKNOWN_FIELD = "Unknown field."
NOT_AN_OBJECT = "Expected a JSON object of fields, got {kind}."
NOT_A_WHOLE_NUMBER = "Must be a whole number written with the digits 0-9."

_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+\Z")


class StrictIntegerField(serializers.IntegerField):
    """An integer given as a JSON number or as a string of ASCII digits; no bool, no float."""

    default_error_messages = {"invalid": NOT_A_WHOLE_NUMBER}

    def to_internal_value(self, data: Any) -> int:
        is_int = isinstance(data, int) and not isinstance(data, bool)
        if not is_int and not (isinstance(data, str) and _ASCII_INTEGER.match(data)):
            self.fail("invalid")
        return super().to_internal_value(data)


def integer_range(low: int, high: int, message: str) -> dict[str, Any]:
    """Field kwargs for an integer in [low, high]: in the OpenAPI schema, refused with `message`.

    Pass the owning module's own range message, so the API answers exactly as the model or
    validation module would.
    """
    return {
        "min_value": low,
        "max_value": high,
        "error_messages": {"min_value": message, "max_value": message},
    }


class StrictInputMixin:
    """Refuse a body that is not an object, and name every field the serializer lacks."""

    def run_validation(self, data: Any = empty) -> Any:
        # Before DRF's own checks, which call null "This field may not be null."
        if data is not empty and not isinstance(data, Mapping):
            message = NOT_AN_OBJECT.format(kind=_json_kind(data))
            raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [message]})
        return super().run_validation(data)

    def to_internal_value(self, data: Mapping) -> Any:
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [UNKNOWN_FIELD] for name in unknown})
        return super().to_internal_value(data)


class StrictSerializer(StrictInputMixin, serializers.Serializer):
    """Base of input serializers; declare numbers as StrictIntegerField."""


class StrictModelSerializer(StrictInputMixin, serializers.ModelSerializer):
    """Base of model input serializers: the model's integer fields become StrictIntegerField."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.IntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.PositiveBigIntegerField: StrictIntegerField,
    }


def _json_kind(data: Any) -> str:
    if data is None:
        return "null"
    if isinstance(data, list | tuple):
        return "an array"
    if isinstance(data, str):
        return "a string"
    return "a number" if isinstance(data, int | float) else type(data).__name__
