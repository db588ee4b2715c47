"""The AutoSchema that documents every operation's errors (DEFAULT_SCHEMA_CLASS).

Every operation of every view, including ones added later, gets the problem responses the
shared API rules can produce (apps/core/api/errors.py's body, the `Problem` component), so
clients and schemathesis (tests/test_api_conformance.py) know them. A view whose own errors
go beyond those lists them in `problem_statuses` (the job actions pass on HWA's 409, 502...).
It also says what drf-spectacular leaves out of parameters: filters that take an empty
value, their maximum lengths, the date format StrictFilterSet accepts.

Its own module: drf-spectacular imports DEFAULT_SCHEMA_CLASS while its views load, so this
module must not import them.
"""

from __future__ import annotations

from django import forms
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from apps.core.api.filtering import DATETIME_PATTERN
from apps.core.api.problems import PROBLEM_CONTENT_TYPE, TITLES
from apps.security.permissions import PUBLIC, rule_for

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Any request may be refused for its query parameters or its Accept header (400, 406), and
# any may meet an unavailable database or a missed request deadline (503).
ALWAYS = (400, 406, 503)


class ProblemSerializer(serializers.Serializer):
    """Every error's body (RFC 9457). Some errors add members, e.g. HWA's own messages."""

    type = serializers.CharField(help_text="`about:blank`, or a URI naming the problem.")
    title = serializers.CharField(help_text="The status's reason phrase.")
    status = serializers.IntegerField()
    detail = serializers.CharField()
    request_id = serializers.CharField(help_text="Also in the X-Request-ID header.")
    errors = serializers.DictField(
        required=False, help_text="On a 400 about given input: each parameter or field's errors."
    )


class ProblemAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the problem responses and PUBLIC's optional auth."""

    def get_auth(self) -> list[dict]:
        auths = super().get_auth()
        if auths and rule_for(self.view, self.method) == PUBLIC and {} not in auths:
            auths.append({})  # credentials are accepted, never required
        return auths

    def _map_serializer_field(self, field, direction, bypass_extensions=False) -> dict:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            schema
            and schema.get("type") == "array"
            and getattr(field, "allow_empty", True) is False
        ):
            schema.setdefault("minItems", 1)  # drf-spectacular leaves allow_empty=False out
        return schema

    def _get_filter_parameters(self) -> list[dict]:
        parameters = super()._get_filter_parameters()
        filters = getattr(getattr(self.view, "filterset_class", None), "base_filters", {})
        for parameter in parameters:
            # An empty filter or ordering means "not filtered" (the browsable API's filter form
            # sends every field), so `?status=&q=` is a valid request.
            parameter["allowEmptyValue"] = True
            # django-filter's schema leaves a CharFilter's max_length out.
            max_length = getattr(filters.get(parameter["name"]), "extra", {}).get("max_length")
            if max_length is not None:
                parameter["schema"]["maxLength"] = max_length
            if parameter["schema"].get("format") == "date-time":
                parameter["schema"]["pattern"] = DATETIME_PATTERN  # see StrictFilterSet
            field_class = getattr(filters.get(parameter["name"]), "field_class", None)
            if field_class is not None and issubclass(field_class, forms.GenericIPAddressField):
                # django-filter documents an IP filter as any string.
                parameter["schema"]["anyOf"] = [{"format": "ipv4"}, {"format": "ipv6"}]
        return parameters

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self._problem_statuses():
            # A view's own description of a status (health's 503) wins over the generic one.
            responses.setdefault(str(status), self._problem_response(status))
        return responses

    def _problem_statuses(self) -> list[int]:
        """The error statuses the shared API rules, and the view's own, can give this operation."""
        public = rule_for(self.view, self.method) == PUBLIC
        statuses = {*ALWAYS, *getattr(self.view, "problem_statuses", ())}
        if self.view.get_authenticators() or public:
            statuses.add(401)  # bad credentials, in a header or (token views) in the body
        if not public:
            statuses.add(403)
        if "{" in self.path or self._is_paginated_list():
            statuses.add(404)  # no such object, or a page past the end
        if self.method in BODY_METHODS:
            statuses.update((413, 415))
        if self.view.get_throttles():
            statuses.add(429)
        return sorted(statuses)

    def _is_paginated_list(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None

    def _problem_response(self, status: int) -> dict:
        response = self._get_response_for_code(
            ProblemSerializer, str(status), media_types=[PROBLEM_CONTENT_TYPE]
        )
        response["description"] = TITLES[status]
        return response
