"""Conversations with the assistant, per user: reads and writes in one place.

Only the owner ever sees a conversation: every read and delete filters by user, so another
user's id is simply not found (404), never "forbidden".
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from apps.core.errors import NotFoundError
from apps.core.models import Conversation, Message

TITLE_MAX = Conversation._meta.get_field("title").max_length
CONVERSATION_NOT_FOUND = "No conversation {id}."
# Earlier messages sent back to the model with a new question of the same conversation.
HISTORY_MESSAGES = 10


def conversation_list(*, user: Any) -> QuerySet[Conversation]:
    """The user's conversations, latest first, with their message counts."""
    rows = Conversation.objects.filter(user=user).annotate(message_count=Count("messages"))
    return rows.order_by("-updated_at", "-id")  # a GROUP BY query drops Meta.ordering


def conversation_get(*, user: Any, conversation_id: int) -> Conversation:
    """The user's conversation `conversation_id`, or NotFoundError (also for another's)."""
    conversation = conversation_list(user=user).filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFoundError(CONVERSATION_NOT_FOUND.format(id=conversation_id))
    return conversation


def conversation_history(conversation: Conversation) -> list[dict]:
    """The last HISTORY_MESSAGES messages as chat messages (questions and answers only)."""
    rows = conversation.messages.order_by("-created_at", "-id")[:HISTORY_MESSAGES]
    return [{"role": m.role, "content": m.content} for m in reversed(list(rows))]


@transaction.atomic
def conversation_start(*, user: Any, question: str) -> Conversation:
    """A new conversation titled with the start of its first question."""
    title = " ".join(question.split())[:TITLE_MAX]
    return Conversation.objects.create(user=user, title=title)


@transaction.atomic
def message_add(
    *,
    conversation: Conversation,
    role: str,
    content: str,
    citations: list | None = None,
    tools: list | None = None,
) -> Message:
    """Append a message and mark the conversation as updated now."""
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        role=role,
        content=content,
        citations=citations or [],
        tools=tools or [],
        created_at=now,
    )
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=now)
    return message


@transaction.atomic
def conversation_delete(*, user: Any, conversation_id: int) -> None:
    """Delete the user's conversation with its messages and proposals (404 if not theirs)."""
    deleted, _ = Conversation.objects.filter(user=user, pk=conversation_id).delete()
    if not deleted:
        raise NotFoundError(CONVERSATION_NOT_FOUND.format(id=conversation_id))
