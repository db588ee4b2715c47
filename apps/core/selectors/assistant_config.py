"""Reads of the assistant's model configuration."""

from __future__ import annotations

from apps.core.models import AssistantConfig
from apps.core.models.assistant import DEFAULT_CONFIG

MODEL_BREAKER_OPEN = (
    "Calls to the assistant's model are suspended after {failures} consecutive failures: {error}"
)


def assistant_config_get() -> AssistantConfig:
    """The configuration in force: the saved row, or the defaults (the bundled simulator)
    when nobody has saved one yet (unsaved: its pk is None)."""
    return AssistantConfig.objects.filter(name=DEFAULT_CONFIG).first() or AssistantConfig()


def check_assistant_model() -> None:
    """Health check "assistant_model": degraded while this process's model breaker is open.

    No call to the model (a health poll must not spend tokens) and no query: the breaker
    is in memory. A process that never called the model, or that found the assistant
    turned off at its last call (which drops its client), has nothing to report.
    """
    from apps.core.services.assistant_config import assistant_llm_client_peek

    client = assistant_llm_client_peek()
    if client is None:
        return
    snap = client.breaker.snapshot()
    if snap.state == "open":
        error = snap.last_error or "unknown"
        failures = snap.consecutive_failures
        raise RuntimeError(MODEL_BREAKER_OPEN.format(failures=failures, error=error))
