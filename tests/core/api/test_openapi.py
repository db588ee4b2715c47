"""ProblemAutoSchema: every operation documents its problem responses and its parameters."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from apps.core.api.filtering import DATETIME_PATTERN
from apps.core.api.problems import PROBLEM_CONTENT_TYPE, TITLES, problem_body
from tests.factories import JobFactory

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(public=True)


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def _parameter(schema: dict, path: str, name: str) -> dict:
    parameters = schema["paths"][path]["get"]["parameters"]
    return next(parameter for parameter in parameters if parameter["name"] == name)


def test_every_operation_documents_the_problems_any_request_may_meet(schema):
    for label, operation in _operations(schema):
        for status in ("400", "406", "503"):
            assert status in operation["responses"], label


# Health reports document their own 503 body (the report, unhealthy).
HEALTH_REPORTS = {"GET /api/v1/health/", "GET /api/v1/health/ready/"}


def test_every_documented_error_is_a_problem_body_titled_by_its_status(schema):
    for label, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400 or label in HEALTH_REPORTS:
                continue
            assert response["content"] == {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}, label
            assert response["description"] == TITLES[int(status)]


def test_the_problem_component_has_the_members_of_every_problem_body(schema):
    problem = schema["components"]["schemas"]["Problem"]
    body = problem_body(400, "Invalid input: page.", errors={"page": ["Must be positive."]})

    assert set(problem["properties"]) == set(body)
    assert set(problem["required"]) == set(body) - {"errors"}


def test_health_documents_its_own_body_when_unhealthy(schema):
    responses = schema["paths"]["/api/v1/health/"]["get"]["responses"]
    assert responses["503"] == responses["200"]


def test_protected_operations_document_401_and_403_public_ones_401_only(schema):
    jobs = schema["paths"]["/api/v1/jobs/"]["get"]
    token = schema["paths"]["/api/v1/auth/token/"]["post"]

    assert {"401", "403"} <= set(jobs["responses"])
    assert "401" in token["responses"]  # wrong username or password
    assert "403" not in token["responses"]


def test_a_public_operation_takes_credentials_without_requiring_them(schema):
    assert {} in schema["paths"]["/api/v1/health/"]["get"]["security"]
    assert {} not in schema["paths"]["/api/v1/jobs/"]["get"]["security"]


def test_lists_and_details_document_404_and_bodies_413_and_415(schema):
    paths = schema["paths"]
    assert "404" in paths["/api/v1/jobs/"]["get"]["responses"]  # a page past the end
    assert "404" in paths["/api/v1/jobs/{id}/"]["get"]["responses"]
    assert "404" not in paths["/api/v1/jobs/status/"]["get"]["responses"]
    assert {"413", "415"} <= set(paths["/api/v1/config/cache/"]["put"]["responses"])
    assert "413" not in paths["/api/v1/config/cache/"]["get"]["responses"]


def test_a_view_documents_the_statuses_it_adds(schema):
    responses = schema["paths"]["/api/v1/jobs/{id}/actions/{action}/"]["post"]["responses"]
    assert {"409", "422", "502", "504"} <= set(responses)  # HWA's answers, passed on


def test_filters_take_an_empty_value_and_say_their_maximum_length(schema):
    q = _parameter(schema, "/api/v1/jobs/", "q")
    assert q["allowEmptyValue"] is True
    assert q["schema"]["maxLength"] == 64


def test_ordering_lists_the_fields_it_takes_comma_separated(schema):
    ordering = _parameter(schema, "/api/v1/workstations/", "ordering")
    assert ordering["schema"]["items"]["enum"][:4] == ["id", "-id", "name", "-name"]
    assert (ordering["style"], ordering["explode"]) == ("form", False)


def test_a_list_that_may_not_be_empty_says_so(schema):
    request = schema["components"]["schemas"]["ApiKeyCreateRequest"]
    assert request["properties"]["scopes"]["minItems"] == 1
    assert request["properties"]["name"]["minLength"] == 1


def test_bounded_settings_and_pages_document_their_bounds(schema, settings):
    cache = schema["components"]["schemas"]["CacheConfigRequest"]["properties"]
    page_size = _parameter(schema, "/api/v1/jobs/", "page_size")
    assert (cache["num_shards"]["minimum"], cache["num_shards"]["maximum"]) == (1, 256)
    assert page_size["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": settings.API_MAX_PAGE_SIZE,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "documented"),
    [
        ("2024-06-01T09:00:00Z", True),
        ("2024-06-01T09:00:00+14:00", True),
        ("2024-06-01T09:00:00-12:00", True),
        ("2024-06-01T09:00:00+05:30", True),
        ("2024-06-01T09:00:00+14:01", False),
        ("2024-06-01T09:00:00+16:00", False),
        ("2024-06-01T09:00:00-12:30", False),
        ("0001-01-01T00:00:00+01:00", False),
        ("9999-12-31T23:59:59-01:00", False),
    ],
)
def test_the_date_pattern_says_which_dates_the_filters_accept(
    schema, viewer_client, value, documented
):
    JobFactory()
    assert _parameter(schema, "/api/v1/jobs/", "start_after")["schema"]["pattern"] == (
        DATETIME_PATTERN
    )
    assert bool(re.match(DATETIME_PATTERN, value)) is documented

    response = viewer_client.get("/api/v1/jobs/", {"start_after": value})

    if documented:
        assert response.status_code == 200
    else:
        assert response.status_code == 400
