"""The assistant's API: ask (whole JSON or server-sent events), confirm, conversations.

POST ask/ streams `text/event-stream` when the client sends `Accept: text/event-stream` or
`"stream": true`:

    event: start   data: {"conversation": 12, "request_id": "..."}
    event: tool    data: {"name": "search_jobs", "error": false}      (each tool call)
    event: delta   data: {"text": "..."}                              (sanitized pieces)
    event: done    data: {the same object as the JSON answer}
    event: error   data: {a problem body}                             (the model failed)

Errors found before the answer starts (bad input, 403, 404, the model turned off) are the
usual problem responses, streamed or not.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.core.api.base import BaseAPIView, StrictQueryParamsMixin
from apps.core.api.inputs import StrictSerializer
from apps.core.api.problems import problem_body
from apps.core.api.serializers import JobSerializer
from apps.core.assistant import conversations
from apps.core.assistant.llm import LlmError, llm_client
from apps.core.assistant.orchestrator import Delta, Limits, ToolRan
from apps.core.assistant.services import (
    Answer,
    Question,
    assistant_ask,
    assistant_confirm,
    assistant_refusal_record,
    proposal_data,
)
from apps.core.middleware import request_id_adopt, request_id_context
from apps.core.models import Conversation, Message
from apps.core.selectors.assistant_config import assistant_config_get
from apps.monitoring.models import SecurityEvent
from apps.monitoring.services import security_event_record
from apps.security.client_ip import client_ip
from apps.security.permissions import ACT_ON_JOB, VIEW_PLAN, request_allows
from apps.security.prompts.injection import injection_rule
from apps.security.prompts.serializers import PromptRequestSerializer, injection_rejected
from apps.security.throttling import AssistantApiKeyThrottle, AssistantUserThrottle

EVENT_STREAM = "text/event-stream"
INJECTION_EVENT = "assistant prompt refused as an injection attempt ({rule})"


class EventStreamRenderer(JSONRenderer):
    """Lets a client ask for `text/event-stream`; errors are still problem JSON bodies."""

    media_type = EVENT_STREAM
    format = "event-stream"


class AskSerializer(PromptRequestSerializer):
    """A question: the seed's fields, the conversation it continues, and how to answer."""

    conversation = serializers.IntegerField(
        required=False, min_value=1, help_text="Continue this conversation of yours."
    )
    stream = serializers.BooleanField(
        required=False, default=False, help_text="Answer as server-sent events."
    )


class CitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ProposalJobSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()


class ProposalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    job = ProposalJobSerializer()
    action = serializers.ChoiceField(choices=["rerun", "hold", "release", "cancel"])
    reason = serializers.CharField()
    allowed = serializers.BooleanField(help_text="Whether you may confirm it (operator).")
    expires_at = serializers.DateTimeField()
    token = serializers.CharField(
        allow_null=True, help_text="Send to confirm/; null when you may not perform it."
    )


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(help_text="Plain text in escaped Markdown (no HTML).")
    citations = CitationSerializer(many=True)
    proposals = ProposalSerializer(many=True)
    tools = serializers.ListField(child=serializers.CharField())
    conversation = serializers.IntegerField()
    request_id = serializers.UUIDField()
    model = serializers.CharField()


class ConfirmSerializer(StrictSerializer):
    token = serializers.CharField(max_length=500)


class ConfirmResultSerializer(serializers.Serializer):
    proposal = serializers.IntegerField()
    action = serializers.CharField()
    outcome = serializers.CharField()
    detail = serializers.CharField()
    at = serializers.DateTimeField()
    job = JobSerializer()


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "role", "content", "citations", "tools", "created_at"]


class ConversationSerializer(serializers.ModelSerializer):
    message_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Conversation
        fields = ["id", "title", "created_at", "updated_at", "message_count"]


class ConversationDetailSerializer(ConversationSerializer):
    messages = MessageSerializer(many=True, read_only=True)

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "messages"]


class AssistantView(BaseAPIView):
    """Assistant endpoints: the usual throttles plus the assistant's own (per user, per key)."""

    def get_throttles(self):
        return [*super().get_throttles(), AssistantUserThrottle(), AssistantApiKeyThrottle()]


def _wants_stream(request: Request, asked: bool) -> bool:
    return asked or EVENT_STREAM in request.headers.get("Accept", "")


def _adopt_request_id(request: Request, request_id: uuid.UUID | None) -> str:
    """The request's id: the body's UUID if given, else a new one; echoed in X-Request-ID."""
    value = str(request_id or uuid.uuid4())
    request_id_adopt(request._request, value)
    return value


class AskView(AssistantView):
    """Ask a question about the plan; the answer cites the jobs it rests on."""

    required_permission = VIEW_PLAN
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, EventStreamRenderer]
    problem_statuses = (404, 502)

    @extend_schema(
        request=AskSerializer,
        responses={
            (200, "application/json"): AnswerSerializer,
            (200, EVENT_STREAM): OpenApiResponse(
                OpenApiTypes.STR, description="Server-sent events: start, tool, delta, done."
            ),
        },
    )
    def post(self, request: Request):
        serializer = AskSerializer(data=request.data)
        if not serializer.is_valid():
            self._refused(request, serializer)
            raise ValidationError(serializer.errors)
        data = serializer.validated_data
        request_id = _adopt_request_id(request, data.get("request_id"))
        # The configured model answers; a `model` the client names is checked and audited.
        config = assistant_config_get()
        client = llm_client()  # AssistantDisabledError (503) before anything starts
        question = Question(
            user=request.user,
            text=data["prompt"],
            may_act=request_allows(request, ACT_ON_JOB),
            model=config.model,
            requested_model=data.get("model"),
            ip=client_ip(request),
            claimed_ip=data.get("client_ip"),
            conversation_id=data.get("conversation"),
        )
        limits = Limits.from_config(config)
        if _wants_stream(request, data["stream"]):
            if question.conversation_id is not None:  # a 404 before the stream starts
                conversations.conversation_get(
                    user=request.user, conversation_id=question.conversation_id
                )
            events = assistant_ask(question=question, client=client, limits=limits, stream=True)
            return _event_stream(events, request_id, question.model)
        answer = None
        for event in assistant_ask(question=question, client=client, limits=limits):
            answer = event
        return Response(_answer_data(answer, request_id, question.model))

    def _refused(self, request: Request, serializer: AskSerializer) -> None:
        """Record a prompt refused as an injection attempt (a security event) or as data."""
        prompt = request.data.get("prompt") if hasattr(request.data, "get") else None
        if not isinstance(prompt, str) or "prompt" not in serializer.errors:
            return
        ip = client_ip(request)
        reason = str(serializer.errors["prompt"][0])
        if injection_rejected(serializer):
            rule = injection_rule(prompt) or ""
            security_event_record(
                kind=SecurityEvent.Kind.SQL_INJECTION,
                severity=SecurityEvent.Severity.HIGH,
                ip=ip,
                path=request.path,
                user=request.user,
                pattern=f"assistant:{rule}",
                request_id=getattr(request._request, "request_id", ""),
                detail=INJECTION_EVENT.format(rule=rule),
            )
        assistant_refusal_record(
            user=request.user, question_chars=len(prompt), reason=reason, ip=ip
        )


def _answer_data(answer: Answer, request_id: str, model: str) -> dict:
    outcome = answer.outcome
    return AnswerSerializer(
        {
            "answer": outcome.answer,
            "citations": outcome.citations,
            "proposals": [proposal_data(p) for p in answer.proposals],
            "tools": outcome.tools,
            "conversation": answer.conversation.pk,
            "request_id": request_id,
            "model": model,
        }
    ).data


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str, ensure_ascii=False)}\n\n"


def _event_stream(events: Iterator, request_id: str, model: str) -> StreamingHttpResponse:
    def body() -> Iterator[str]:
        # The body is sent after the middleware returned: keep the request id current.
        with request_id_context(request_id):
            try:
                first = True
                for event in events:
                    if isinstance(event, Answer):
                        if first:
                            yield _start(event.conversation.pk, request_id)
                        yield _sse("done", _answer_data(event, request_id, model))
                        return
                    if first:
                        first = False
                        yield _start(None, request_id)
                    if isinstance(event, Delta):
                        yield _sse("delta", {"text": event.text})
                    elif isinstance(event, ToolRan):
                        yield _sse("tool", {"name": event.name, "error": event.error})
            except LlmError as exc:
                yield _sse("error", problem_body(exc.status_code, exc.detail))

    response = StreamingHttpResponse(body(), content_type=EVENT_STREAM)
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events on as they come
    return response


def _start(conversation: int | None, request_id: str) -> str:
    return _sse("start", {"conversation": conversation, "request_id": request_id})


class ConfirmView(AssistantView):
    """Perform a proposed job action with its token: same permission and audit as the API."""

    required_permission = ACT_ON_JOB
    # Token invalid or expired (400), already used (409), job gone (404); HWA's answers as
    # the job action API passes them on (409, 422, 502, 504).
    problem_statuses = (404, 409, 422, 502, 504)

    @extend_schema(request=ConfirmSerializer, responses=ConfirmResultSerializer)
    def post(self, request: Request) -> Response:
        serializer = ConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        proposal, record, job = assistant_confirm(
            token=serializer.validated_data["token"], user=request.user
        )
        body = {
            "proposal": proposal.pk,
            "action": record.action,
            "outcome": record.outcome,
            "detail": record.detail,
            "at": record.at,
            "job": job,
        }
        return Response(ConfirmResultSerializer(body).data)


class ConversationListView(StrictQueryParamsMixin, generics.ListAPIView):
    """Your conversations with the assistant, latest first."""

    required_permission = VIEW_PLAN
    serializer_class = ConversationSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Conversation.objects.none()
        return conversations.conversation_list(user=self.request.user)


class ConversationDetailView(BaseAPIView):
    """One of your conversations with its messages; DELETE removes it."""

    required_permission = VIEW_PLAN

    @extend_schema(responses=ConversationDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        conversation = conversations.conversation_get(user=request.user, conversation_id=pk)
        return Response(ConversationDetailSerializer(conversation).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        conversations.conversation_delete(user=request.user, conversation_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
