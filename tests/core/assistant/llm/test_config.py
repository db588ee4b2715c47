"""AssistantConfig: defaults, validation, the encrypted API key, audit, and live application."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.db import connection as db

from apps.core.assistant.llm import llm_client
from apps.core.assistant.llm.errors import (
    KEY_UNREADABLE,
    AssistantDisabledError,
    LlmUnavailableError,
)
from apps.core.assistant.llm.simulator import LlmSimulator
from apps.core.config_versions import config_version_bump, watcher
from apps.core.models import AssistantConfig
from apps.core.selectors.assistant_config import assistant_config_get
from apps.core.services.assistant_config import (
    CONFIG_AREA,
    KEY_CHANGED,
    KEY_REMOVED,
    REDIRECT_NEEDS_KEY,
    assistant_config_update,
    client_close,
)
from apps.monitoring.models import AuditEvent
from tests.core.assistant.llm.conftest import TOOLS, ask

pytestmark = pytest.mark.django_db

KEY = "sk-test-4f1c9a7e0b2d"


@pytest.fixture(autouse=True)
def _fresh_client():
    client_close()
    yield
    client_close()


def _point_at(sim: LlmSimulator, **values) -> AssistantConfig:
    return assistant_config_update(
        actor=None, source="test", values={"base_url": sim.base_url, **values}
    )


def _stored_key() -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT api_key FROM core_assistantconfig")
        return cursor.fetchone()[0]


def test_with_no_row_the_defaults_name_the_bundled_simulator(settings):
    config = assistant_config_get()

    assert config.pk is None
    assert config.base_url == settings.RESYNC_LLM_URL
    assert config.model == "resync-simulator"
    assert config.enabled


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model", "llama3.1:8b; rm -rf"),
        ("model", "x" * 101),
        ("base_url", "not a url"),
        ("max_tool_calls", 0),
        ("max_tool_calls", 21),
        ("temperature", 2.5),
        ("read_timeout", 0),
        ("max_tokens", 10**6),
    ],
)
def test_bad_values_are_refused_by_field(field, value):
    with pytest.raises(ValidationError) as refused:
        assistant_config_update(actor=None, source="test", values={field: value})

    assert field in refused.value.message_dict
    assert not AssistantConfig.objects.exists()


def test_an_unknown_setting_is_refused():
    with pytest.raises(ValidationError) as refused:
        assistant_config_update(actor=None, source="test", values={"api_key": "x"})
    assert "api_key" in refused.value.message_dict  # the key goes through its own argument


def test_the_api_key_is_encrypted_at_rest_and_never_audited(administrator):
    assistant_config_update(
        actor=administrator, source="test", values={"model": "gpt-4o-mini"}, api_key=KEY
    )

    assert KEY not in _stored_key()
    assert AssistantConfig.objects.get().api_key == KEY
    event = AuditEvent.objects.get(action="assistant_config.create")
    assert event.detail == KEY_CHANGED
    assert event.actor == administrator
    for row in AuditEvent.objects.values():
        assert KEY not in repr(row)


def test_a_change_is_audited_with_only_what_changed(llm_sim):
    _point_at(llm_sim)

    assistant_config_update(actor=None, source="test", values={"max_tokens": 300})

    event = AuditEvent.objects.get(action="assistant_config.update")
    assert event.before == {"max_tokens": 1024}
    assert event.after == {"max_tokens": 300}
    assert AssistantConfig.objects.get().version == 2


def test_saving_the_same_values_again_changes_nothing(llm_sim):
    _point_at(llm_sim)

    _point_at(llm_sim)

    assert AuditEvent.objects.filter(action__startswith="assistant_config.").count() == 1


def test_a_new_base_url_needs_the_stored_key_again(llm_sim):
    assistant_config_update(actor=None, source="test", values={}, api_key=KEY)

    with pytest.raises(ValidationError) as refused:
        assistant_config_update(
            actor=None, source="test", values={"base_url": "https://elsewhere.example/v1"}
        )

    assert refused.value.message_dict["api_key"] == [REDIRECT_NEEDS_KEY]
    assert AssistantConfig.objects.get().base_url != "https://elsewhere.example/v1"


def test_removing_the_key_is_audited_and_stops_the_header(llm_sim):
    _point_at(llm_sim)
    assistant_config_update(actor=None, source="test", values={}, api_key=KEY)

    assistant_config_update(actor=None, source="test", values={}, api_key="")

    assert AuditEvent.objects.filter(detail=KEY_REMOVED).count() == 1
    llm_client().chat(ask("health"))
    assert llm_sim.requests()[-1]["authorized"] is False


def test_the_client_sends_the_stored_key(llm_sim):
    _point_at(llm_sim)
    assistant_config_update(actor=None, source="test", values={}, api_key=KEY)

    llm_client().chat(ask("health"))

    assert llm_sim.requests()[-1]["authorized"] is True


def test_a_key_no_configured_key_opens_is_a_clear_503(llm_sim, settings):
    _point_at(llm_sim)
    assistant_config_update(actor=None, source="test", values={}, api_key=KEY)
    settings.RESYNC_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(LlmUnavailableError) as unreadable:
        llm_client()

    assert str(unreadable.value) == KEY_UNREADABLE
    assert unreadable.value.status_code == 503
    assert llm_sim.request_count() == 0


def test_a_disabled_assistant_calls_no_model(llm_sim):
    _point_at(llm_sim, enabled=False)

    with pytest.raises(AssistantDisabledError):
        llm_client()
    assert llm_sim.request_count() == 0


def test_a_saved_change_moves_the_next_call_to_the_new_url(
    llm_sim, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _point_at(llm_sim)
    llm_client().chat(ask("health"), tools=TOOLS)

    with LlmSimulator() as other:
        with django_capture_on_commit_callbacks(execute=True):
            _point_at(other, model="other-model")
        llm_client().chat(ask("health"), tools=TOOLS)
        assert other.request_count() == 1
        assert other.requests()[-1]["body"]["model"] == "other-model"
    assert llm_sim.request_count() == 1


def test_another_process_change_applies_through_the_config_watcher(llm_sim):
    _point_at(llm_sim)
    watcher.reset()
    watcher.poll(force=True)
    first = llm_client()
    with LlmSimulator() as other:
        # Written as another process would: the row and the version, no local callback.
        AssistantConfig.objects.update(base_url=other.base_url, version=99)
        config_version_bump(CONFIG_AREA)
        assert llm_client() is first  # not yet seen in this process

        watcher.poll(force=True)

        assert llm_client() is not first
        llm_client().chat(ask("health"))
        assert other.request_count() == 1
