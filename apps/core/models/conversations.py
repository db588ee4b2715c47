"""Assistant conversations: what a user asked, what the assistant answered, what it proposed.

Kept per user for the retention period (`conversations` in apps/core/services/retention.py),
listed and deleted by their owner only. A proposal is a job action the assistant suggested;
it does nothing until its owner confirms it with the single-use token (apps/core/assistant/
proposals.py), before it expires.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Conversation(models.Model):
    """One user's exchange with the assistant: questions and answers in order."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=120, help_text="The start of the first question.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["user", "-updated_at"], name="conversation_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"


class Message(models.Model):
    """A question (role user) or an answer (role assistant) of a conversation."""

    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField()
    # Jobs the answer rests on ([{"id", "name"}]) and the tools called ([name, ...]).
    citations = models.JSONField(default=list, blank=True)
    tools = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class ActionProposal(models.Model):
    """A job action the assistant proposed; performed only when its owner confirms it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="action_proposals"
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="proposals"
    )
    # The HWA id, not a foreign key: the job may leave the plan before the confirmation.
    job_hwa_id = models.CharField(max_length=128)
    job_name = models.CharField(max_length=64)
    action = models.CharField(max_length=16)
    reason = models.CharField(max_length=500, blank=True)
    allowed = models.BooleanField(help_text="Whether the user may perform it (operator).")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True, help_text="When it was confirmed.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.job_name} for {self.user_id}"
