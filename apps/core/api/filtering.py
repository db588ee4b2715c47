"""Ordering that refuses unknown fields with a 400 instead of silently ignoring them."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

UNKNOWN_ORDERING = "Unknown ordering field {field!r}; allowed: {allowed}."


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
                raise ValidationError({self.ordering_param: [message]})
        return terms
