"""The assistant's model connection: one row, edited in the admin, applied live."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from apps.security.crypto import EncryptedTextField

DEFAULT_CONFIG = "default"
SIMULATOR_MODEL = "resync-simulator"
# ':' for Ollama's tags (qwen2.5:7b); nothing that could break out of a JSON string or a URL.
MODEL_NAME_RE = r"^[a-zA-Z0-9\-_/.:]+$"
MODEL_NAME_INVALID = "Letters, digits, '-', '_', '/', '.' and ':' only."
MAX_TOOL_CALLS_LIMIT = 20
# The settings an administrator edits and the audit log records; the API key is edited
# and audited apart, since its value must never be shown or logged.
EDITABLE_FIELDS = (
    "enabled",
    "base_url",
    "model",
    "connect_timeout",
    "read_timeout",
    "max_tokens",
    "temperature",
    "max_tool_calls",
)


def default_base_url() -> str:
    """RESYNC_LLM_URL: the bundled simulator unless the deployment says otherwise."""
    return settings.RESYNC_LLM_URL


class AssistantConfig(models.Model):
    """Which OpenAI-compatible model answers the assistant's questions, and its limits."""

    name = models.CharField(max_length=32, unique=True, default=DEFAULT_CONFIG, editable=False)
    enabled = models.BooleanField(
        default=True, help_text="Off: the assistant answers 503 and calls no model."
    )
    base_url = models.URLField(
        max_length=300,
        default=default_base_url,
        help_text="OpenAI-compatible API base, ending before /chat/completions: e.g. "
        "http://127.0.0.1:11434/v1 (Ollama), http://gpu-host:8000/v1 (vLLM), "
        "http://127.0.0.1:8080/v1 (llama.cpp server). The default is the bundled simulator.",
    )
    model = models.CharField(
        max_length=100,
        default=SIMULATOR_MODEL,
        validators=[RegexValidator(MODEL_NAME_RE, MODEL_NAME_INVALID)],
        help_text="The model name the server knows, e.g. llama3.1, qwen2.5:7b or "
        "meta-llama/Llama-3.1-8B-Instruct; it must support tool calling.",
    )
    api_key = EncryptedTextField(
        blank=True,
        help_text="Sent as 'Authorization: Bearer'. Stored encrypted; never shown or logged.",
    )
    connect_timeout = models.FloatField(
        default=5.0,
        validators=[MinValueValidator(0.1), MaxValueValidator(60)],
        help_text="Seconds to wait for a connection to the model's server (0.1 to 60).",
    )
    read_timeout = models.FloatField(
        default=60.0,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
        help_text="Seconds to wait for the model's answer, or for each piece of a streamed "
        "one (1 to 600). A CPU-only model can need a minute.",
    )
    max_tokens = models.PositiveIntegerField(
        default=1024,
        validators=[MinValueValidator(16), MaxValueValidator(32_768)],
        help_text="Most tokens the model may write in one answer (16 to 32,768).",
    )
    temperature = models.FloatField(
        default=0.2,
        validators=[MinValueValidator(0), MaxValueValidator(2)],
        help_text="Randomness of the answers (0 to 2); low keeps answers close to the data.",
    )
    max_tool_calls = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TOOL_CALLS_LIMIT)],
        help_text=f"Most tool calls the assistant runs for one question (1 to "
        f"{MAX_TOOL_CALLS_LIMIT}); each is a bounded read of the mirror.",
    )
    version = models.PositiveIntegerField(
        default=0, editable=False, help_text="Goes up on every change."
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "assistant configuration"

    def __str__(self) -> str:
        return f"assistant:{self.name} ({self.model} at {self.base_url})"

    def values(self) -> dict:
        """The editable settings without the API key (audit, comparisons)."""
        return {field: getattr(self, field) for field in EDITABLE_FIELDS}
