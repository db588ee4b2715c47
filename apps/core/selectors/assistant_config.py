"""Reads of the assistant's model configuration."""

from __future__ import annotations

from apps.core.models import AssistantConfig
from apps.core.models.assistant import DEFAULT_CONFIG


def assistant_config_get() -> AssistantConfig:
    """The configuration in force: the saved row, or the defaults (the bundled simulator)
    when nobody has saved one yet (unsaved: its pk is None)."""
    return AssistantConfig.objects.filter(name=DEFAULT_CONFIG).first() or AssistantConfig()
