"""The model behind the assistant: an OpenAI-compatible chat-completions client.

    from apps.core.assistant.llm import llm_client
    reply = llm_client().chat(messages, tools=tools)

`client` speaks the wire format; `errors` are what callers catch; `simulator` is the
bundled scripted model that `make run` and the tests talk to over real HTTP.
"""

from __future__ import annotations

from apps.core.assistant.llm.client import (
    ChatReply,
    LlmClient,
    LlmClientSettings,
    ToolCall,
    llm_client,
)
from apps.core.assistant.llm.errors import (
    AssistantDisabledError,
    LlmBadOutputError,
    LlmError,
    LlmUnavailableError,
)

__all__ = [
    "AssistantDisabledError",
    "ChatReply",
    "LlmBadOutputError",
    "LlmClient",
    "LlmClientSettings",
    "LlmError",
    "LlmUnavailableError",
    "ToolCall",
    "llm_client",
]
