"""The assistant configuration admin: administrators only, the API key write-only and never
redirected, changes saved through the service, and a test call to the saved server."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.admin.assistant_config import TEST_FAILED, TEST_OK
from apps.core.models import AssistantConfig
from apps.core.models.assistant import EDITABLE_FIELDS
from apps.core.services.assistant_config import (
    KEY_CHANGED,
    REDIRECT_NEEDS_KEY,
    assistant_config_update,
)
from apps.monitoring.models import AuditEvent
from apps.security.roles import AUDITOR, OPERATOR, VIEWER
from tests.conftest import _with_role

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/core/assistantconfig/"
KEY = "sk-admin-test-77aa31"


def _form(config: AssistantConfig, **changes) -> dict:
    values = {field: getattr(config, field) for field in EDITABLE_FIELDS}
    values.update(changes)
    return {k: ("on" if v is True else v) for k, v in values.items() if v is not False}


@pytest.fixture
def config(llm_sim) -> AssistantConfig:
    return assistant_config_update(
        actor=None, source="test", values={"base_url": llm_sim.base_url}, api_key=KEY
    )


@pytest.fixture
def change_page(client, administrator, config):
    client.force_login(administrator)
    return client, reverse("admin:core_assistantconfig_change", args=[config.pk])


@pytest.mark.parametrize("role", [VIEWER, OPERATOR, AUDITOR])
def test_only_administrators_see_the_page(client, config, role):
    client.force_login(_with_role(f"staff-{role}", role, is_staff=True))

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(reverse("admin:index")).content.decode().count("assistantconfig") == 0


def test_the_page_never_shows_the_api_key(change_page):
    client, url = change_page

    page = client.get(url)

    assert page.status_code == 200
    assert KEY not in page.content.decode()


def test_a_new_key_is_saved_encrypted_and_audited_without_its_value(change_page, config):
    client, url = change_page

    response = client.post(url, _form(config, max_tokens=512, new_api_key="sk-new-99"))

    assert response.status_code == 302
    saved = AssistantConfig.objects.get()
    assert (saved.api_key, saved.max_tokens) == ("sk-new-99", 512)
    event = AuditEvent.objects.get(action="assistant_config.update", source="admin")
    assert event.after == {"max_tokens": 512}
    assert event.detail == KEY_CHANGED
    for row in AuditEvent.objects.values():
        assert "sk-new-99" not in repr(row)


def test_a_new_base_url_without_the_key_is_a_form_error(change_page, config):
    client, url = change_page

    page = client.post(url, _form(config, base_url="https://attacker.example/v1"))

    assert page.status_code == 200
    assert page.context["adminform"].form.errors["new_api_key"] == [REDIRECT_NEEDS_KEY]
    assert AssistantConfig.objects.get().base_url == config.base_url


@pytest.mark.parametrize("model", ["llama 3.1", 'llama3.1"}', "<script>"])
def test_a_model_name_outside_the_allowed_characters_is_a_form_error(change_page, config, model):
    client, url = change_page

    page = client.post(url, _form(config, model=model))

    assert "model" in page.context["adminform"].form.errors


def test_an_ollama_tag_is_a_model_name(change_page, config):
    client, url = change_page

    page = client.post(url, _form(config, model="qwen2.5:7b"))

    assert page.status_code == 302, page.context["adminform"].form.errors
    assert AssistantConfig.objects.get().model == "qwen2.5:7b"


def test_there_is_only_ever_one_row(change_page):
    client, _url = change_page

    assert client.get(reverse("admin:core_assistantconfig_add")).status_code == 403


def test_the_test_action_calls_the_saved_server(change_page, config, llm_sim):
    client, _url = change_page

    page = client.post(
        CHANGELIST, {"action": "test_model", "_selected_action": [config.pk]}, follow=True
    )

    messages = [str(m) for m in page.context["messages"]]
    assert messages == [TEST_OK.format(url=llm_sim.base_url, models=llm_sim.model)]
    assert llm_sim.requests()[-1]["authorized"] is True


def test_the_test_action_reports_a_server_that_is_down(change_page, config, llm_sim):
    client, _url = change_page
    llm_sim.stop()

    page = client.post(
        CHANGELIST, {"action": "test_model", "_selected_action": [config.pk]}, follow=True
    )

    [message] = [str(m) for m in page.context["messages"]]
    assert message.startswith(TEST_FAILED.format(detail="Cannot reach the assistant's model"))
