"""Writes of the assistant's model configuration, and the process-wide client built from it.

`assistant_config_update` validates with the model, saves, audits the change without the
API key's value ("API key changed" / "API key removed" in the detail), bumps the row's
version and the "assistant" config version. As with the HWA password, a change of base URL
while a key is stored needs the key entered again (or removed) in the same change: whoever
may edit the configuration but was never shown the key cannot send it to a new host.

Every process keeps one `LlmClient` (one connection pool, one breaker) keyed by the row's
version; the "assistant" watcher callback marks it stale, so the next call anywhere uses
the new URL, model or timeouts within a second. Calls still running on the old client
finish on it, then its pool closes.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.assistant.llm.client import LlmClient, LlmClientSettings
from apps.core.assistant.llm.errors import (
    KEY_UNREADABLE,
    AssistantDisabledError,
    LlmUnavailableError,
)
from apps.core.config_versions import config_version_bump
from apps.core.errors import reject_unknown_fields
from apps.core.models import AssistantConfig
from apps.core.models.assistant import DEFAULT_CONFIG, EDITABLE_FIELDS
from apps.core.selectors.assistant_config import assistant_config_get
from apps.monitoring.services import audit_record
from apps.security.crypto import SecretUnreadableError, plaintext

CONFIG_AREA = "assistant"
AUDIT_TARGET = "assistant_config:default"
KEY_CHANGED = "API key changed"
KEY_REMOVED = "API key removed"
KEY_REENTERED = "API key entered again"
REDIRECT_NEEDS_KEY = (
    "Enter the API key again (or remove it) to change the base URL: the stored key would "
    "otherwise be sent to a new host nobody who knows it has agreed to."
)


def _key_note(before: str, api_key: str | None) -> str:
    if api_key is None:
        return ""
    if not api_key:
        return KEY_REMOVED if before else ""
    return KEY_CHANGED if api_key != before else KEY_REENTERED


@transaction.atomic
def assistant_config_update(
    *, actor: Any, source: str, values: dict[str, Any], api_key: str | None = None
) -> AssistantConfig:
    """Validate and save new settings (ValidationError by field; nothing saved then).

    `api_key`: None keeps the stored key, "" removes it, any other text replaces it.
    """
    reject_unknown_fields(values, known=EDITABLE_FIELDS)
    stored = AssistantConfig.objects.select_for_update().filter(name=DEFAULT_CONFIG).first()
    config = stored or AssistantConfig(name=DEFAULT_CONFIG)
    before = config.values() if stored else {}
    old_key = plaintext_or_empty(stored)
    for field, value in values.items():
        setattr(config, field, value)
    if stored and stored.api_key and config.base_url != before["base_url"] and api_key is None:
        raise ValidationError({"api_key": [REDIRECT_NEEDS_KEY]})
    if api_key is not None:
        config.api_key = api_key
    config.full_clean()
    after = config.values()
    note = _key_note(old_key, api_key)
    if stored and after == before and note in ("", KEY_REENTERED):
        return config
    config.updated_at = timezone.now()
    config.save()
    AssistantConfig.objects.filter(pk=config.pk).update(version=F("version") + 1)
    config.refresh_from_db(fields=["version"])
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    audit_record(
        actor=actor,
        source=source,
        action="assistant_config.create" if stored is None else "assistant_config.update",
        target=AUDIT_TARGET,
        before={k: before.get(k) for k in changed} or None,
        after=changed or None,
        detail=note,
    )
    config_version_bump(CONFIG_AREA)
    transaction.on_commit(client_invalidate)
    return config


def plaintext_or_empty(config: AssistantConfig | None) -> str:
    """The stored key's text ("" when none, or when no configured key can decrypt it)."""
    if config is None or not config.api_key:
        return ""
    try:
        return plaintext(config.api_key, what="The assistant's API key")
    except SecretUnreadableError:
        return ""


def client_settings(config: AssistantConfig, **overrides: Any) -> LlmClientSettings:
    """The client settings a configuration stands for (SecretUnreadableError if its API
    key cannot be decrypted with the configured keys)."""
    api_key = plaintext(config.api_key, what="The assistant's API key") if config.api_key else ""
    return LlmClientSettings(
        base_url=config.base_url,
        model=config.model,
        api_key=api_key,
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        max_tokens=config.max_tokens,
        temperature=config.temperature,
        **overrides,
    )


class _ClientHolder:
    """The process-wide client, keyed by the row's (pk, version); rebuilt when it moves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: LlmClient | None = None
        self._key: tuple[int | None, int] | None = None
        self._stale = True

    def get(self) -> LlmClient:
        with self._lock:
            if self._client is not None and not self._stale:
                return self._client
            config = assistant_config_get()
            if not config.enabled:
                self._drop()  # nothing to report on health while it is off
                raise AssistantDisabledError()
            key = (config.pk, config.version)
            if self._client is None or key != self._key:
                try:
                    settings = client_settings(config)
                except SecretUnreadableError:
                    raise LlmUnavailableError(KEY_UNREADABLE, retry_after=60) from None
                old, self._client = self._client, LlmClient(settings)
                if old is not None:
                    old.close()  # closes once its calls in flight have ended
            self._key, self._stale = key, False
            return self._client

    def peek(self) -> LlmClient | None:
        return self._client

    def invalidate(self, _version: int | None = None) -> None:
        with self._lock:
            self._stale = True

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client, self._key, self._stale = None, None, True

    def close(self) -> None:
        with self._lock:
            self._drop()


_holder = _ClientHolder()


def assistant_llm_client() -> LlmClient:
    """The process-wide client for the live configuration (AssistantDisabledError if off,
    LlmUnavailableError if its API key cannot be decrypted with the configured keys)."""
    return _holder.get()


def assistant_llm_client_peek() -> LlmClient | None:
    """The client if this process built one (metrics read its breaker)."""
    return _holder.peek()


def client_invalidate(version: int | None = None) -> None:
    """Re-read the configuration at next use (the "assistant" config watcher calls this)."""
    _holder.invalidate(version)


def client_close() -> None:
    """Close and forget the process-wide client (tests, shutdown)."""
    _holder.close()
