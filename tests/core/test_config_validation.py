"""The three config services (pools, cache, HWA connection) refuse bad values alike: the
model's full_clean() raises Django's ValidationError by field, the API answers it as the
same 400 problem naming the field, and the admin form shows the same message on the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.urls import reverse

from apps.cache.models import OUT_OF_RANGE as CACHE_OUT_OF_RANGE
from apps.cache.models import RANGES as CACHE_RANGES
from apps.cache.models import CacheConfig
from apps.cache.services import cache_config_update
from apps.core.api.errors import VALIDATION_DETAIL, problem_exception_handler
from apps.core.api.problems import PROBLEM_CONTENT_TYPE, TITLES
from apps.core.errors import UNKNOWN_SETTING
from apps.core.models import ConnectionPoolConfig, HwaConnection
from apps.core.models.pools import EDITABLE_FIELDS as POOL_FIELDS
from apps.core.models.pools import MIN_GT_MAX
from apps.core.services.hwa import hwa_connection_save
from apps.core.services.pools import pool_config_update
from apps.monitoring.models import AuditEvent

pytestmark = pytest.mark.django_db

# The HWA connection's ranges are Django's validators, with Django's message.
MAX_PAGE_SIZE_MESSAGE = MaxValueValidator.message % {"limit_value": 10_000}


def _pools(**values: Any) -> None:
    pool_config_update(name="redis", values=values, actor=None, source="api")


def _cache(**values: Any) -> None:
    cache_config_update(actor=None, source="api", values=values)


def _hwa(**values: Any) -> None:
    connection = HwaConnection(base_url="https://hwa.example/twsd", username="resync")
    for field, value in values.items():
        setattr(connection, field, value)
    hwa_connection_save(connection=connection, actor=None, source="api", password="secret")


# service, a bad value, the field it names, the message the model gives
CASES = [
    (_pools, {"min_size": 25}, "min_size", MIN_GT_MAX.format(min=25, max=20)),
    (
        _cache,
        {"num_shards": 0},
        "num_shards",
        CACHE_OUT_OF_RANGE.format(low=1, high=CACHE_RANGES["num_shards"][1]),
    ),
    (_hwa, {"page_size": 20_000}, "page_size", MAX_PAGE_SIZE_MESSAGE),
]
IDS = ["pools", "cache", "hwa_connection"]


def _refusal(service: Callable[..., None], values: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        service(**values)
    return refused.value


@pytest.mark.parametrize(("service", "values", "field", "message"), CASES, ids=IDS)
def test_each_service_raises_a_validation_error_naming_the_field(service, values, field, message):
    assert _refusal(service, values).message_dict == {field: [message]}
    assert not AuditEvent.objects.changes().exists()


@pytest.mark.parametrize(("service", "values", "field", "message"), CASES, ids=IDS)
def test_the_api_answers_each_refusal_with_the_same_400_problem(service, values, field, message):
    response = problem_exception_handler(_refusal(service, values), {"view": None})

    assert response.status_code == 400
    assert response.content_type == PROBLEM_CONTENT_TYPE
    body = response.data
    assert (body["title"], body["status"]) == (TITLES[400], 400)
    assert body["detail"] == VALIDATION_DETAIL.format(fields=field)
    assert body["errors"] == {field: [message]}


@pytest.mark.parametrize(
    ("service", "known"), [(_pools, POOL_FIELDS), (_cache, CACHE_RANGES)], ids=IDS[:2]
)
def test_an_unknown_setting_is_named_the_same_way(service, known):
    refused = _refusal(service, {"max_sise": 3})
    assert refused.message_dict == {"max_sise": [UNKNOWN_SETTING.format(known=", ".join(known))]}


def _admin_form(client, url: str, data: dict[str, Any]) -> dict[str, list[str]]:
    page = client.post(url, data)
    assert page.status_code == 200  # shown again, not saved
    return page.context["adminform"].form.errors


def test_the_admin_forms_show_the_same_messages_on_the_field(client, administrator):
    client.force_login(administrator)
    pool = ConnectionPoolConfig.objects.get(name="redis")
    url = reverse("admin:core_connectionpoolconfig_change", args=[pool.pk])
    errors = _admin_form(client, url, {**pool.values(), "min_size": 25})
    assert errors["min_size"] == [CASES[0][3]]

    cache = CacheConfig.objects.get()
    url = reverse("admin:resync_cache_cacheconfig_change", args=[cache.pk])
    errors = _admin_form(client, url, {**cache.values(), "num_shards": 0})
    assert errors["num_shards"] == [CASES[1][3]]

    url = reverse("admin:core_hwaconnection_add")
    data = {"name": "default", "base_url": "https://hwa.example/twsd", "username": "resync"}
    data |= {"connect_timeout": 5, "read_timeout": 30, "sync_interval": 60, "flavour": "v1"}
    errors = _admin_form(client, url, {**data, "page_size": 20_000})
    assert errors["page_size"] == [CASES[2][3]]
    assert not AuditEvent.objects.changes().exists()
