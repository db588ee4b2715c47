"""Asking the assistant and confirming its proposals: the writes, and their audit rows.

Every question and every confirmation leaves one audit row (action `assistant.ask` or
`assistant.confirm`): who, from where, the question's LENGTH (not its text: a question may
name people, hosts or incidents, and the audit log is kept and read by auditors; the text is
in the asker's own conversation, which they can delete), the model, the tools called, the
proposals made, the tokens used and the outcome. Never an API key: none is ever passed here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from apps.core.assistant import conversations
from apps.core.assistant.llm import LlmClient, LlmError
from apps.core.assistant.orchestrator import (
    Delta,
    Limits,
    Outcome,
    ToolRan,
    answer_question,
    conversation_messages,
)
from apps.core.assistant.proposals import proposal_confirm, proposal_token
from apps.core.assistant.tools import ToolContext
from apps.core.models import ActionProposal, Conversation, Message
from apps.monitoring.services import audit_record

ASK = "assistant.ask"
CONFIRM = "assistant.confirm"


@dataclass(frozen=True)
class Question:
    """A validated question and what is known about who asks it."""

    user: Any
    text: str
    may_act: bool
    model: str  # the configured model, which answers
    ip: str
    requested_model: str | None = None  # the model the client named (recorded only)
    claimed_ip: str | None = None
    conversation_id: int | None = None


@dataclass
class Answer:
    """The outcome of a question, with its conversation and proposals."""

    conversation: Conversation
    outcome: Outcome
    proposals: list[ActionProposal] = field(default_factory=list)


def proposal_data(proposal: ActionProposal) -> dict:
    """A proposal as the API shows it: the token only when the user may confirm it."""
    return {
        "id": proposal.pk,
        "job": {"id": getattr(proposal, "job_id", None), "name": proposal.job_name},
        "action": proposal.action,
        "reason": proposal.reason,
        "allowed": proposal.allowed,
        "expires_at": proposal.expires_at,
        "token": proposal_token(proposal) if proposal.allowed else None,
    }


def assistant_ask(
    *, question: Question, client: LlmClient, limits: Limits, stream: bool = False
) -> Iterator[Delta | ToolRan | Answer]:
    """Answer `question` in its conversation (a new one without an id); yields the
    orchestrator's events, then the Answer. Raises NotFoundError for another's conversation
    and LlmError when the model fails (audited as failed either way)."""
    if question.conversation_id is not None:
        conversation = conversations.conversation_get(
            user=question.user, conversation_id=question.conversation_id
        )
        history = conversations.conversation_history(conversation)
    else:
        conversation = conversations.conversation_start(user=question.user, question=question.text)
        history = []
    conversations.message_add(
        conversation=conversation, role=Message.Role.USER, content=question.text
    )
    context = ToolContext(
        user=question.user,
        question=question.text,
        conversation=conversation,
        may_act=question.may_act,
    )
    outcome = Outcome()
    try:
        for event in answer_question(
            client=client,
            messages=conversation_messages(history, question.text),
            context=context,
            limits=limits,
            stream=stream,
        ):
            if isinstance(event, Outcome):
                outcome = event
            else:
                yield event
    except LlmError as exc:
        _audit_ask(question, conversation, outcome, context, "failed", detail=str(exc))
        raise
    conversations.message_add(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content=outcome.answer,
        citations=outcome.citations,
        tools=outcome.tools,
    )
    _audit_ask(question, conversation, outcome, context, "ok")
    yield Answer(conversation=conversation, outcome=outcome, proposals=context.proposals)


def _audit_ask(
    question: Question,
    conversation: Conversation,
    outcome: Outcome,
    context: ToolContext,
    result: str,
    detail: str = "",
) -> None:
    audit_record(
        actor=question.user,
        source="api",
        action=ASK,
        target=f"conversation:{conversation.pk}",
        after={
            "question_chars": len(question.text),
            "model": question.model,
            "requested_model": question.requested_model,
            "tools": outcome.tools,
            "tool_errors": outcome.tool_errors,
            "proposals": [f"{p.action} {p.job_name}" for p in context.proposals],
            "tokens": outcome.tokens,
            "stopped": outcome.stopped,
            "claimed_client_ip": question.claimed_ip,
        },
        outcome=result,
        detail=detail,
        ip=question.ip,
    )


def assistant_refusal_record(*, user: Any, question_chars: int, reason: str, ip: str) -> None:
    """Audit a question refused before any model call (injection, encoded data)."""
    audit_record(
        actor=user,
        source="api",
        action=ASK,
        target="assistant",
        after={"question_chars": question_chars},
        outcome="refused",
        detail=reason,
        ip=ip,
    )


def assistant_confirm(*, token: str, user: Any) -> tuple[ActionProposal, Any, Any]:
    """Perform the proposal the token names (proposals.proposal_confirm), audited whatever
    happens; the job action itself is audited by the job action service, as over the API."""
    proposal = None
    try:
        proposal, record, job = proposal_confirm(token=token, user=user)
    except Exception as exc:
        target = f"proposal:{proposal.pk}" if proposal else "proposal"
        audit_record(
            actor=user,
            source="api",
            action=CONFIRM,
            target=target,
            outcome="failed",
            detail=str(getattr(exc, "detail", exc))[:500],
        )
        raise
    audit_record(
        actor=user,
        source="api",
        action=CONFIRM,
        target=f"proposal:{proposal.pk}",
        after={"action": proposal.action, "job": proposal.job_name, "result": record.outcome},
        outcome="ok",
    )
    return proposal, record, job
