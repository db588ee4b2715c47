"""The bundled model simulator: a real OpenAI-compatible HTTP server with a scripted model.

with LlmSimulator() as sim:
    client = LlmClient(LlmClientSettings(base_url=sim.base_url, model=sim.model))

It is no language model: it recognises the question patterns of docs/assistant.md, calls
the assistant's tools for them and writes its answer from their results.
"""

from __future__ import annotations

from apps.core.assistant.llm.simulator.script import CAPABILITIES, respond
from apps.core.assistant.llm.simulator.server import DEFAULT_MODEL, Faults, LlmSimulator

__all__ = ["CAPABILITIES", "DEFAULT_MODEL", "Faults", "LlmSimulator", "respond"]
