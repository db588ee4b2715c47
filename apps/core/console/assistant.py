"""The assistant's console page (/assistant/): ask the plan in plain language.

The page is a thin client of the assistant's API (apps/core/api/assistant.py): its script
posts the question to `ask/` and a confirmation to `confirm/` with the session and the CSRF
token, so the validation, injection refusal, throttles, audit and permissions are the API's,
not a second copy. The server renders the user's conversations and the one they open; the
script adds the new question, the answer (as text: never markup), the cited jobs as links
to their console pages and, for an operator, a button per proposed action.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from apps.core.assistant.conversations import conversation_get, conversation_list
from apps.core.console.access import ConsoleView
from apps.core.errors import NotFoundError
from apps.security.permissions import VIEW_PLAN

CONVERSATIONS_SHOWN = 20


class AssistantPageView(ConsoleView):
    """Questions and answers; the user's recent conversations beside them."""

    required_permission = VIEW_PLAN
    section = "console-assistant"

    def get(self, request: HttpRequest) -> HttpResponse:
        conversations = list(conversation_list(user=request.user)[:CONVERSATIONS_SHOWN])
        current, turns, status = None, [], 200
        wanted = request.GET.get("conversation", "")
        if wanted:
            try:
                current = conversation_get(user=request.user, conversation_id=int(wanted))
            except (ValueError, NotFoundError):
                status = 404  # not theirs, gone, or not a number: the same answer
            else:
                turns = list(current.messages.order_by("created_at", "id"))
        context = {
            "conversations": conversations,
            "current": current,
            "turns": turns,  # not "messages": the layout shows Django's messages under that name
            "not_found": status == 404,
            "ask_url": reverse("assistant-ask"),
            "confirm_url": reverse("assistant-confirm"),
            # The script puts a cited job's id in place of the 0.
            "job_url": reverse("console-job", args=[0]),
        }
        return self.render(request, "console/assistant.html", context, status=status)
