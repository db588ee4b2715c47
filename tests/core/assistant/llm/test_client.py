"""LlmClient against the real simulator over HTTP: answers, streaming, faults, retries and
the breaker."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory

from apps.core.api.errors import problem_exception_handler
from apps.core.assistant.llm import errors
from apps.core.assistant.llm.client import ChatReply, LlmClient, LlmClientSettings
from apps.core.assistant.llm.errors import (
    AssistantDisabledError,
    LlmBadOutputError,
    LlmError,
    LlmUnavailableError,
)
from apps.core.assistant.llm.simulator import LlmSimulator
from apps.core.assistant.llm.simulator.script import UNKNOWN_TOOL
from apps.core.breaker import BreakerState, CircuitBreaker
from tests.core.assistant.llm.conftest import TOOLS, ask, free_port, with_results
from tests.core.hwa.conftest import FakeClock

CHAT = "/v1/chat/completions"
ERRORS = {"count": 2, "jobs": [
    {"id": "J1", "name": "PAY_RUN#01", "stream": "PAYROLL", "workstation": "FTA006",
     "status": "Error", "internal_status": "ABEND", "start": "02:10", "end": "02:11",
     "return_code": 12},
    {"id": "J2", "name": "BILL_03", "stream": "BILLING", "workstation": "FTA006",
     "status": "Error", "internal_status": "FAIL", "start": None, "end": None,
     "return_code": None},
]}  # fmt: skip


# --- answers ------------------------------------------------------------------------------
def test_a_question_gets_tool_calls_with_parsed_arguments(make_client):
    reply = make_client().chat(ask("Which jobs abended on FTA006 since 02:00?"), tools=TOOLS)

    assert reply.content is None
    assert reply.finish_reason == "tool_calls"
    [call] = reply.tool_calls
    assert call.name == "search_jobs"
    assert call.arguments == {"status": "Error", "workstation": "FTA006", "since": "02:00"}
    assert call.id
    assert reply.usage["prompt_tokens"] > 0
    assert reply.usage["completion_tokens"] > 0


def test_the_answer_is_composed_from_the_tool_results(make_client):
    client = make_client()
    messages = ask("Which jobs abended on FTA006 since 02:00?")
    first = client.chat(messages, tools=TOOLS)

    reply = client.chat(with_results(messages, first, ERRORS), tools=TOOLS)

    assert reply.tool_calls == ()
    assert reply.finish_reason == "stop"
    assert reply.content.startswith("2 jobs ended in error on FTA006 since 02:00:")
    assert "PAY_RUN#01" in reply.content
    assert "BILL_03" in reply.content
    assert "return code 12" in reply.content


def test_the_request_carries_model_tools_and_the_max_tokens_cap(make_client, llm_sim):
    client = make_client(max_tokens=200, temperature=0.0)

    client.chat(ask("health"), tools=TOOLS, max_tokens=5000)

    body = llm_sim.requests()[-1]["body"]
    assert body["model"] == llm_sim.model
    assert body["max_tokens"] == 200  # a caller cannot raise the configured budget
    assert body["temperature"] == 0.0
    assert [t["function"]["name"] for t in body["tools"]] == [t["function"]["name"] for t in TOOLS]
    assert body["stream"] is False


def test_the_api_key_is_sent_as_a_bearer_token_only_when_set(llm_sim):
    with LlmSimulator(api_key="sk-sim-secret") as locked:
        good = LlmClient(
            LlmClientSettings(base_url=locked.base_url, model="m", api_key="sk-sim-secret")
        )
        assert good.chat(ask("health"), tools=TOOLS).tool_calls[0].name == "health"
        bad = LlmClient(LlmClientSettings(base_url=locked.base_url, model="m", api_key="wrong"))
        with pytest.raises(LlmError) as refused:
            bad.chat(ask("health"), tools=TOOLS)
    assert type(refused.value) is LlmError
    assert str(refused.value) == errors.REFUSED.format(
        status=401, message=": Incorrect API key provided"
    )
    assert "wrong" not in str(refused.value)
    assert "sk-sim-secret" not in repr(good.settings)
    with LlmClient(LlmClientSettings(base_url=llm_sim.base_url, model="m")) as keyless:
        keyless.chat(ask("health"))
    assert llm_sim.requests()[-1]["authorized"] is False


def test_a_client_closed_by_a_configuration_change_still_serves_a_late_caller(make_client):
    client = make_client()
    client.close()

    reply = client.chat(ask("health"), tools=TOOLS)

    assert reply.tool_calls[0].name == "health"
    assert client.http_client.is_closed  # and its pool is closed again once the call ended


def test_models_lists_what_the_server_offers(make_client, llm_sim):
    assert make_client().models() == [llm_sim.model]


# --- streaming ------------------------------------------------------------------------------
def test_a_stream_yields_text_pieces_then_the_whole_reply(make_client):
    client = make_client()
    messages = ask("Which jobs abended on FTA006?")
    first = client.chat(messages, tools=TOOLS)

    items = list(client.chat_stream(with_results(messages, first, ERRORS), tools=TOOLS))

    *pieces, reply = items
    assert len(pieces) > 5
    assert all(isinstance(p, str) for p in pieces)
    assert isinstance(reply, ChatReply)
    assert "".join(pieces) == reply.content
    assert "PAY_RUN#01" in reply.content
    assert reply.usage["completion_tokens"] > 0


def test_a_streamed_tool_call_is_put_back_together(make_client):
    items = list(make_client().chat_stream(ask("show job PAY_RUN#01"), tools=TOOLS))

    assert len(items) == 1  # no text, only the final reply
    [call] = items[0].tool_calls
    assert (call.name, call.arguments) == ("search_jobs", {"name": "PAY_RUN#01", "limit": 5})
    assert items[0].finish_reason == "tool_calls"


def test_a_malformed_stream_chunk_is_bad_output(make_client, llm_sim):
    llm_sim.set_faults(malformed_json=True)

    with pytest.raises(LlmBadOutputError, match="not JSON"):
        list(make_client().chat_stream(ask("health"), tools=TOOLS))


def test_streamed_tool_arguments_that_are_not_json_are_bad_output(make_client, llm_sim):
    llm_sim.set_faults(bad_arguments=True)

    with pytest.raises(LlmBadOutputError) as bad:
        list(make_client().chat_stream(ask("health"), tools=TOOLS))
    assert str(bad.value) == errors.BAD_ARGUMENTS.format(name="health")


# --- faults ---------------------------------------------------------------------------------
def test_a_body_that_is_not_json_is_bad_output_and_not_retried(make_client, llm_sim):
    llm_sim.set_faults(malformed_json=True)

    with pytest.raises(LlmBadOutputError, match="not JSON"):
        make_client().chat(ask("health"), tools=TOOLS)
    assert llm_sim.request_count(CHAT) == 1


def test_tool_arguments_that_are_not_json_are_bad_output(make_client, llm_sim):
    llm_sim.set_faults(bad_arguments=True)

    with pytest.raises(LlmBadOutputError) as bad:
        make_client().chat(ask("how many jobs are held?"), tools=TOOLS)
    assert str(bad.value) == errors.BAD_ARGUMENTS.format(name="status_summary")
    assert bad.value.status_code == 502


def test_a_call_to_a_tool_nobody_offered_reaches_the_caller(make_client, llm_sim):
    llm_sim.set_faults(unknown_tool=True)

    reply = make_client().chat(ask("health"), tools=TOOLS)

    # The client passes it on; refusing unknown tools is the assistant's job.
    assert [c.name for c in reply.tool_calls] == [UNKNOWN_TOOL]


def test_a_500_is_unavailable_and_not_retried(make_client, llm_sim):
    llm_sim.set_faults(error_status=500)

    with pytest.raises(LlmUnavailableError) as failed:
        make_client().chat(ask("health"))
    assert str(failed.value) == errors.SERVER_FAILED.format(
        status=500, message=": Simulated failure (HTTP 500)"
    )
    assert llm_sim.request_count(CHAT) == 1


def test_a_503_is_retried_then_succeeds(make_client, llm_sim):
    llm_sim.set_faults(error_status=503, error_count=2, retry_after=1)
    factory = make_client

    reply = factory().chat(ask("health"), tools=TOOLS)

    assert reply.tool_calls[0].name == "health"
    assert llm_sim.request_count(CHAT) == 3
    assert len(factory.sleeps) == 2
    assert min(factory.sleeps) >= 1


def test_a_429_with_a_long_retry_after_gives_up_at_once_and_passes_it_on(make_client, llm_sim):
    llm_sim.set_faults(error_status=429, retry_after=120)

    with pytest.raises(LlmUnavailableError) as limited:
        make_client(backoff_max=8).chat(ask("health"))
    assert limited.value.retry_after == 120
    assert str(limited.value).startswith(errors.RATE_LIMITED.format(message=""))
    assert llm_sim.request_count(CHAT) == 1
    assert make_client.sleeps == []


def test_a_429_exhausts_the_retries(make_client, llm_sim):
    llm_sim.set_faults(error_status=429, retry_after=1)

    with pytest.raises(LlmUnavailableError):
        make_client(max_retries=2).chat(ask("health"))
    assert llm_sim.request_count(CHAT) == 3


def test_a_refusal_is_neither_retried_nor_held_against_the_server(make_client, llm_sim):
    llm_sim.set_faults(error_status=400)
    client = make_client()

    with pytest.raises(LlmError) as refused:
        client.chat(ask("health"))
    assert not isinstance(refused.value, LlmUnavailableError)
    assert refused.value.status_code == 502
    assert llm_sim.request_count(CHAT) == 1
    assert client.breaker.snapshot().consecutive_failures == 0


def test_a_read_timeout_is_unavailable_and_not_retried(make_client, llm_sim):
    llm_sim.set_faults(latency_ms=1500)

    with pytest.raises(LlmUnavailableError) as slow:
        make_client(read_timeout=0.3).chat(ask("health"))
    assert str(slow.value) == errors.TIMED_OUT.format(reason="ReadTimeout")
    assert llm_sim.request_count(CHAT) == 1  # the model may have worked on it: no retry


def test_a_refused_connection_is_retried_then_unavailable():
    sleeps: list[float] = []
    url = f"http://127.0.0.1:{free_port()}/v1"
    client = LlmClient(
        LlmClientSettings(base_url=url, model="m", max_retries=2), sleep=sleeps.append
    )

    with pytest.raises(LlmUnavailableError) as down:
        client.chat(ask("health"))
    assert str(down.value).startswith(errors.UNREACHABLE.format(url=url, reason=""))
    assert len(sleeps) == 2  # nothing reached a model: safe to try again


# --- the breaker ------------------------------------------------------------------------------
def test_the_breaker_opens_refuses_at_once_then_recovers(make_client, llm_sim):
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=2, cooloff=30, clock=clock)
    client = make_client(breaker=breaker, max_retries=0)
    llm_sim.set_faults(error_status=500)
    for _ in range(2):
        with pytest.raises(LlmUnavailableError):
            client.chat(ask("health"))

    with pytest.raises(LlmUnavailableError) as suspended:
        client.chat(ask("health"))
    assert str(suspended.value) == errors.CIRCUIT_OPEN.format(failures=2, retry_after=30)
    assert suspended.value.retry_after == 30
    assert llm_sim.request_count(CHAT) == 2  # the third never left Resync

    llm_sim.set_faults(error_status=0)
    clock.now += 30
    assert client.chat(ask("health"), tools=TOOLS).tool_calls
    assert breaker.state is BreakerState.CLOSED


def test_a_failed_trial_call_reopens_the_breaker(make_client, llm_sim):
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, cooloff=10, clock=clock)
    client = make_client(breaker=breaker, max_retries=0)
    llm_sim.set_faults(error_status=502)
    with pytest.raises(LlmUnavailableError):
        client.chat(ask("health"))
    clock.now += 10

    with pytest.raises(LlmUnavailableError):
        client.chat(ask("health"))  # the half-open trial, which fails

    assert breaker.state is BreakerState.OPEN
    assert llm_sim.request_count(CHAT) == 2


def test_bad_output_closes_a_half_open_breaker(make_client, llm_sim):
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, cooloff=10, clock=clock)
    client = make_client(breaker=breaker, max_retries=0)
    llm_sim.set_faults(error_status=500)
    with pytest.raises(LlmUnavailableError):
        client.chat(ask("health"))
    llm_sim.set_faults(error_status=0, bad_arguments=True)
    clock.now += 10

    with pytest.raises(LlmBadOutputError):
        client.chat(ask("health"), tools=TOOLS)

    assert breaker.state is BreakerState.CLOSED  # the server answered; the model erred


# --- problems -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "status", "retry_after"),
    [
        (LlmUnavailableError("down", retry_after=7), 503, "7"),
        (LlmBadOutputError("garbled"), 502, None),
        (AssistantDisabledError(), 503, "300"),
        (LlmError("refused"), 502, None),
    ],
)
def test_each_error_is_the_one_problem_body(error, status, retry_after):
    request = APIRequestFactory().get("/api/v1/assistant/ask/")

    response = problem_exception_handler(error, {"request": request})

    assert response.status_code == status
    assert response.data["status"] == status
    assert response.data["detail"] == str(error)
    assert response.get("Retry-After") == retry_after


def test_the_disabled_error_says_so_plainly():
    assert str(AssistantDisabledError()) == errors.DISABLED


def test_bodies_that_are_not_json_open_the_breaker(make_client, llm_sim):
    client = make_client(breaker=CircuitBreaker(threshold=3, cooloff=30, clock=FakeClock()))
    llm_sim.set_faults(malformed_json=True)
    for _ in range(3):
        with pytest.raises(LlmBadOutputError):
            client.chat(ask("health"))

    assert client.breaker.state is BreakerState.OPEN


def test_a_stream_the_caller_abandons_ends_a_half_open_trial(make_client, llm_sim):
    clock = FakeClock()
    client = make_client(breaker=CircuitBreaker(threshold=1, cooloff=10, clock=clock))
    llm_sim.set_faults(error_status=500)
    with pytest.raises(LlmUnavailableError):
        client.chat(ask("health"))
    llm_sim.set_faults(error_status=0)
    clock.now += 10
    messages = ask("Which jobs abended?")
    first = client.chat(messages, tools=TOOLS)
    assert client.breaker.state is BreakerState.CLOSED
    client.breaker.record_failure("again (test)")
    clock.now += 10

    stream = client.chat_stream(with_results(messages, first, ERRORS), tools=TOOLS)
    assert isinstance(next(stream), str)
    stream.close()

    assert client.breaker.state is BreakerState.CLOSED
