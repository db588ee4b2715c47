"""Fixtures: the model simulator on a free port, and clients pointed at it."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from apps.core.assistant.llm.client import ChatReply, LlmClient, LlmClientSettings
from apps.core.assistant.llm.simulator import LlmSimulator
from tests.core.simulator_clients import SimulatorClientFactory

TOOL_NAMES = (
    "search_jobs",
    "status_summary",
    "job_detail",
    "stream_detail",
    "workstation_detail",
    "sync_freshness",
    "health",
    "propose_action",
)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"The {name} tool.",
            "parameters": {"type": "object", "properties": {}},
        },
    }
    for name in TOOL_NAMES
]


@pytest.fixture
def llm_sim() -> Iterator[LlmSimulator]:
    with LlmSimulator() as sim:
        yield sim


class ClientFactory(SimulatorClientFactory[LlmClient]):
    client_class, settings_class = LlmClient, LlmClientSettings

    def defaults(self) -> dict[str, Any]:
        return {
            "base_url": self.sim.base_url,
            "model": self.sim.model,
            "max_retries": 2,
            "read_timeout": 5.0,
        }


@pytest.fixture
def make_client(llm_sim: LlmSimulator) -> Iterator[ClientFactory]:
    with ClientFactory(llm_sim) as factory:
        yield factory


def ask(question: str) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "You answer questions about the HWA plan."},
        {"role": "user", "content": question},
    ]


def with_results(messages: list[dict], reply: ChatReply, *results: Any) -> list[dict]:
    """The conversation after the assistant ran `reply`'s tool calls and got `results`."""
    calls = [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
        }
        for call in reply.tool_calls
    ]
    answers = [
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)}
        for call, result in zip(reply.tool_calls, results, strict=True)
    ]
    return [*messages, {"role": "assistant", "content": None, "tool_calls": calls}, *answers]


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
