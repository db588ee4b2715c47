"""Which query parameters an API view takes; anything else is a 400 naming it.

Ignoring unknown parameters hid typos (`?stauts=Error` answered all 5,000 jobs) and let any
caller mint endless cache keys (`&junk=N`). The parameters a view takes are the ones it
documents: its filterset's filters, the other filter backends' parameters (ordering) and the
paginator's (page, page_size) on list actions, `format` everywhere, plus the view's
`extra_query_params`. A parameter given twice is refused too, unless its filter takes
several values (`status=Error&status=Held`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import QueryDict
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.widgets import SuffixedMultiWidget
from rest_framework.exceptions import ValidationError
from rest_framework.mixins import ListModelMixin
from rest_framework.settings import api_settings

UNKNOWN_PARAMETER = "Unknown query parameter; this endpoint takes: {allowed}."
REPEATED_PARAMETER = "Give this parameter once."


def query_params_check(params: QueryDict, allowed: dict[str, bool]) -> None:
    """Raise a 400 naming every parameter not in `allowed` (name -> may repeat)."""
    errors: dict[str, list[str]] = {}
    for name, values in params.lists():
        if name not in allowed:
            errors[name] = [UNKNOWN_PARAMETER.format(allowed=", ".join(sorted(allowed)) or "none")]
        elif len(values) > 1 and not allowed[name]:
            errors[name] = [REPEATED_PARAMETER]
    if errors:
        raise ValidationError(errors)


# (view class, list request?) -> allowed parameters. What a view takes is fixed by its class
# (filterset, ordering fields, paginator), so it is worked out once, not on every request
# (about 30 us, a tenth of a cached read).
_allowed: dict[tuple[type, bool], dict[str, bool]] = {}


def allowed_query_params(view: Any) -> dict[str, bool]:
    """Name -> may repeat, for every query parameter `view` takes on this request."""
    key = (type(view), _lists(view))
    allowed = _allowed.get(key)
    if allowed is None:
        allowed = _allowed[key] = _allowed_for(view)
    return allowed


def _allowed_for(view: Any) -> dict[str, bool]:
    allowed = dict.fromkeys(getattr(view, "extra_query_params", ()), False)
    if api_settings.URL_FORMAT_OVERRIDE:
        allowed[api_settings.URL_FORMAT_OVERRIDE] = False
    if _lists(view):
        for backend_class in view.filter_backends:
            allowed.update(_backend_params(backend_class(), view))
        if view.paginator is not None:
            params = view.paginator.get_schema_operation_parameters(view)
            allowed.update(_single(param["name"] for param in params))
    return allowed


def _lists(view: Any) -> bool:
    """A viewset's list action, or a GET on a generic list view (ListAPIView)."""
    if getattr(view, "action", None) is not None:
        return view.action == "list"
    return isinstance(view, ListModelMixin) and view.request.method == "GET"


def _backend_params(backend: Any, view: Any) -> dict[str, bool]:
    if not isinstance(backend, DjangoFilterBackend):
        return _single(param["name"] for param in backend.get_schema_operation_parameters(view))
    filterset_class = backend.get_filterset_class(view, view.get_queryset())
    if filterset_class is None:
        return {}
    allowed: dict[str, bool] = {}
    for name, filter_ in filterset_class.base_filters.items():
        widget = filter_.field.widget
        if isinstance(widget, SuffixedMultiWidget):  # range filters: name_min, name_max...
            allowed.update(_single(widget.suffixed(name, suffix) for suffix in widget.suffixes))
        else:
            allowed[name] = getattr(widget, "allow_multiple_selected", False)
    return allowed


def _single(names: Iterable[str]) -> dict[str, bool]:
    return dict.fromkeys(names, False)
