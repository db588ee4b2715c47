"""Pagination with a hard maximum: an oversized page is a 400, not a silent clamp."""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

PAGE_SIZE_TOO_LARGE = "Must be at most {maximum}."
NOT_A_POSITIVE_INTEGER = "Must be a positive whole number."


class StrictPageNumberPagination(PageNumberPagination):
    """Page-number pagination that rejects bad `page` and `page_size` values."""

    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _positive_int(raw, self.page_size_query_param)
        if size > self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        PAGE_SIZE_TOO_LARGE.format(maximum=self.max_page_size)
                    ]
                }
            )
        return size

    def get_schema_operation_parameters(self, view) -> list[dict]:
        """DRF's parameters, with the bounds this class enforces (so clients see them)."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings:
            _positive_int(raw, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)


def _positive_int(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValidationError({name: [NOT_A_POSITIVE_INTEGER]})
    return value
