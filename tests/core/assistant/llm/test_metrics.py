"""Model calls in the metrics and health: time, failures by kind, tokens, the breaker."""

from __future__ import annotations

import pytest

from apps.core.assistant.llm import llm_client
from apps.core.assistant.llm.errors import (
    AssistantDisabledError,
    LlmBadOutputError,
    LlmUnavailableError,
)
from apps.core.selectors.assistant_config import MODEL_BREAKER_OPEN
from apps.core.services.assistant_config import (
    assistant_config_update,
    client_close,
    client_invalidate,
)
from apps.monitoring import metrics
from apps.monitoring.health import health_report, health_results_clear
from tests.core.assistant.llm.conftest import TOOLS, ask

pytestmark = pytest.mark.django_db


def _value(name: str, **labels: str) -> float:
    return metrics.value(name, **labels) or 0.0


@pytest.fixture
def client(llm_sim):
    client_close()
    assistant_config_update(actor=None, source="test", values={"base_url": llm_sim.base_url})
    yield llm_client()
    client_close()


def test_calls_are_timed_and_tokens_counted(client):
    calls = "resync_llm_request_duration_seconds_count"
    before = {op: _value(calls, operation=op) for op in ("chat", "chat_stream")}
    prompt_before = _value("resync_llm_tokens_total", kind="prompt")

    reply = client.chat(ask("health"), tools=TOOLS)
    list(client.chat_stream(ask("health"), tools=TOOLS))

    assert _value(calls, operation="chat") == before["chat"] + 1
    assert _value(calls, operation="chat_stream") == before["chat_stream"] + 1
    prompt_now = _value("resync_llm_tokens_total", kind="prompt")
    assert prompt_now == prompt_before + 2 * reply.usage["prompt_tokens"]


@pytest.mark.parametrize(
    ("faults", "error", "kind"),
    [
        ({"error_status": 500}, LlmUnavailableError, "http_5xx"),
        ({"malformed_json": True}, LlmBadOutputError, "not_json"),
        ({"bad_arguments": True}, LlmBadOutputError, "bad_output"),
    ],
)
def test_failures_are_counted_by_kind(client, llm_sim, faults, error, kind):
    before = _value("resync_llm_errors_total", operation="chat", kind=kind)
    llm_sim.set_faults(**faults)

    with pytest.raises(error):
        client.chat(ask("health"), tools=TOOLS)

    assert _value("resync_llm_errors_total", operation="chat", kind=kind) == before + 1


def test_an_open_breaker_shows_and_its_refusals_are_counted(client):
    for _ in range(client.breaker.snapshot().threshold):
        client.breaker.record_failure("model down (test)")
    refused = {"operation": "chat", "kind": "circuit_open"}
    before = _value("resync_llm_errors_total", **refused)

    with pytest.raises(LlmUnavailableError):
        client.chat(ask("health"))

    families = metrics.collect()
    assert metrics.value("resync_llm_circuit_breaker_state", families, state="open") == 1
    assert metrics.value("resync_llm_circuit_breaker_state", families, state="closed") == 0
    assert metrics.value("resync_llm_errors_total", families, **refused) == before + 1


def test_an_open_breaker_degrades_only_the_assistant_model_component(client):
    assert health_report()["components"]["assistant_model"]["status"] == "healthy"
    for _ in range(client.breaker.snapshot().threshold):
        client.breaker.record_failure("model down (test)")
    health_results_clear()

    component = health_report()["components"]["assistant_model"]

    assert component["status"] == "degraded"
    assert component["detail"] == "RuntimeError: " + MODEL_BREAKER_OPEN.format(
        failures=5, error="model down (test)"
    )


def test_turning_the_assistant_off_clears_its_health(client, llm_sim):
    for _ in range(client.breaker.snapshot().threshold):
        client.breaker.record_failure("model down (test)")
    assistant_config_update(actor=None, source="test", values={"enabled": False})
    client_invalidate()

    with pytest.raises(AssistantDisabledError):
        llm_client()

    assert health_report()["components"]["assistant_model"]["status"] == "healthy"
