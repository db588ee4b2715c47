"""The assistant's console page: the user's own conversations, rendered as text."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.assistant.conversations import conversation_start, message_add
from apps.core.models import Message
from tests.core.console.conftest import signed_in

pytestmark = pytest.mark.django_db

PAGE = "console-assistant"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse(PAGE))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console-login"))


def test_a_plan_reader_sees_the_form_and_the_api_it_posts_to(viewer):
    page = signed_in(viewer).get(reverse(PAGE)).content.decode()

    assert 'data-ask-url="/api/v1/assistant/ask/"' in page
    assert 'data-confirm-url="/api/v1/assistant/confirm/"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert ">Assistant</a>" in page  # in the menu


def test_an_auditor_without_the_plan_is_refused(auditor):
    assert signed_in(auditor).get(reverse(PAGE)).status_code == 403


def test_a_conversation_shows_its_messages_as_text_with_job_links(viewer):
    conversation = conversation_start(user=viewer, question="<b>held?</b>")
    message_add(conversation=conversation, role=Message.Role.USER, content="<b>held?</b>")
    message_add(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        # As stored: apps/security/prompts/sanitize.py escaped the model's markup.
        content="&lt;script&gt;alert(1)&lt;/script&gt; 1 job is held &amp; 2 &lt;3.",
        citations=[{"id": 7, "name": "PAY_PRINT"}],
    )

    page = signed_in(viewer).get(f"{reverse(PAGE)}?conversation={conversation.pk}")
    html = page.content.decode()

    assert page.status_code == 200
    # Shown as the characters, escaped once: never markup, never `&amp;lt;`.
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 1 job is held &amp; 2 &lt;3." in html
    assert "&amp;lt;" not in html
    assert "<script>alert(1)" not in html
    assert f'<a href="{reverse("console-job", args=[7])}">PAY_PRINT (#7)</a>' in html
    assert f'name="conversation" value="{conversation.pk}"' in html  # the form continues it


@pytest.mark.parametrize("wanted", ["mine-not", "999999", "x"])
def test_another_users_or_a_missing_conversation_is_not_found(viewer, operator, wanted):
    theirs = conversation_start(user=operator, question="secret question")
    conversation = str(theirs.pk) if wanted == "mine-not" else wanted

    page = signed_in(viewer).get(f"{reverse(PAGE)}?conversation={conversation}")

    assert page.status_code == 404
    assert "secret question" not in page.content.decode()
    assert "No such conversation of yours." in page.content.decode()
