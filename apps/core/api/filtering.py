"""Filtering shared by every list endpoint: strict ordering and booleans, any-case choices,
safe datetimes.

Each refuses bad input with a 400 naming the parameter instead of ignoring it or letting the
database fail with a 500.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import django_filters as filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters import fields
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.filters import OrderingFilter

UNKNOWN_ORDERING = "Unknown ordering field {field!r}; allowed: {allowed}."
NOT_A_BOOLEAN = "Must be true or false."
OFFSET_OUT_OF_RANGE = "The UTC offset must be between -12:00 and +14:00."
DATETIME_OUT_OF_RANGE = "The date is out of range once moved to UTC."
# The offsets time zones actually use (UTC-12 to UTC+14); PostgreSQL refuses +16:00.
MIN_UTC_OFFSET = timedelta(hours=-12)
MAX_UTC_OFFSET = timedelta(hours=14)
# What the OpenAPI schema promises a date filter takes (an RFC 3339 date-time): an offset of
# Z or -12:00..+14:00, and not the first or last day of the calendar, which may not move to
# UTC. Values outside it may still be accepted (no offset means TIME_ZONE).
DATETIME_PATTERN = (
    r"^(?!0001-01-01|9999-12-31).*"
    r"(Z|[+]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)|-((0[0-9]|1[01]):[0-5][0-9]|12:00))$"
)


class StrictOrderingFilter(OrderingFilter):
    """DRF's OrderingFilter, strict about the fields it accepts."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if not raw:
            return self.get_default_ordering(view)
        allowed = [
            name for name, _label in self.get_valid_fields(queryset, view, {"request": request})
        ]
        terms = [term.strip() for term in raw.split(",") if term.strip()]
        for term in terms:
            if term.lstrip("-") not in allowed:
                message = UNKNOWN_ORDERING.format(field=term, allowed=", ".join(sorted(allowed)))
                raise ApiValidationError({self.ordering_param: [message]})
        return terms

    def get_schema_operation_parameters(self, view) -> list[dict]:
        """`ordering` as what it is: a comma-separated list of the allowed fields, each may
        have a leading "-" (descending)."""
        parameters = super().get_schema_operation_parameters(view)
        context = {"request": getattr(view, "request", None)}
        fields = [
            name for name, _label in self.get_valid_fields(view.get_queryset(), view, context)
        ]
        terms = [term for name in fields for term in (name, f"-{name}")]
        for parameter in parameters:
            parameter["schema"] = {"type": "array", "items": {"type": "string", "enum": terms}}
            parameter["style"], parameter["explode"] = "form", False
        return parameters


class AnyCaseMultipleChoiceField(fields.MultipleChoiceField):
    """Takes each choice in any case (`error`, `ERROR`) and hands on the canonical value."""

    def to_python(self, value: Any) -> list[str]:
        canonical = {str(key).casefold(): str(key) for key, _label in self.choices}
        # An empty value is "not filtered", as for every other filter (`?status=`).
        items = [item for item in super().to_python(value) if item]
        return [canonical.get(item.casefold(), item) for item in items]


class AnyCaseMultipleChoiceFilter(filters.MultipleChoiceFilter):
    """A repeatable choice filter whose values match in any case; an unknown value is a 400."""

    field_class = AnyCaseMultipleChoiceField


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0, any case); empty is "not filtered"; anything else is an error.

    Django's NullBooleanField reads any other word as "unknown", so `?gone=yes` silently
    filtered nothing.
    """

    VALUES = {"true": True, "1": True, "false": False, "0": False}
    # The select widget would turn any unknown word into None before to_python sees it.
    widget = forms.TextInput

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self.VALUES[str(value).casefold()]
        except KeyError:
            raise ValidationError(NOT_A_BOOLEAN, code="invalid") from None

    def validate(self, value: bool | None) -> None:
        """Nothing left to check: to_python refused every other value."""


class StrictBooleanFilter(filters.BooleanFilter):
    """A boolean filter that refuses a value other than true or false with a 400."""

    field_class = StrictBooleanField


class StrictFilterSet(filters.FilterSet):
    """Base of every FilterSet: a datetime the database cannot store is a 400, not a 500.

    ISO 8601 allows offsets up to ±23:59 and Python years 1 to 9999 in any offset, but
    PostgreSQL refuses an offset of +16:00 and moving year 1 or 9999 to UTC can overflow.
    Checking every datetime value here covers any date filter a FilterSet declares.
    """

    def is_valid(self) -> bool:
        if not super().is_valid():
            return False
        cleaned = self.form.cleaned_data
        for name, value in list(cleaned.items()):
            if isinstance(value, datetime):
                try:
                    cleaned[name] = datetime_for_database(value)
                except ValidationError as exc:
                    self.form.add_error(name, exc)
        return not self.form.errors


def datetime_for_database(value: datetime) -> datetime:
    """`value` in UTC, or a ValidationError if its offset or its date is out of range."""
    offset = value.utcoffset()
    if offset is not None and not MIN_UTC_OFFSET <= offset <= MAX_UTC_OFFSET:
        raise ValidationError(OFFSET_OUT_OF_RANGE)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValidationError(DATETIME_OUT_OF_RANGE) from None
