"""The assistant's tools: read-only questions to the plan mirror the model may ask.

Each tool has a JSON schema (what the model is told), a serializer (what is checked: a bad
argument is answered to the model as a tool error, never raised), and a function over the
core selectors that runs a bounded number of queries whatever the plan's size
(MAX_QUERIES, asserted by tests/core/assistant/test_tools.py). Results are plain JSON data;
the orchestrator passes them to the model as data, never as instructions.

`search_jobs` goes through the API's own FilterSet (apps/core/filters.py), so "status",
"workstation" or "stream" mean exactly what they mean on GET /api/v1/jobs/; `since` and
`until` bound the job's start (an ISO date-time, or HH:MM today in TIME_ZONE, the plan's).

`propose_action` acts on nothing: it records a proposal (apps/core/assistant/proposals.py)
the user may confirm, and only when the user's own question asks for that action on that job.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from apps.core import selectors
from apps.core.filters import JobFilter
from apps.core.models import Job, Workstation
from apps.core.selectors.plan import job_counts_by_status
from apps.core.selectors.sync import check_hwa_sync, plan_freshness
from apps.core.services.actions import JOB_ACTIONS
from apps.core.states import ENDED_JOB_STATES, FAILED_JOB_STATES, JobStatus
from apps.monitoring.health import health_report

SEARCH_LIMIT = 20
SEARCH_LIMIT_MAX = 50
DETAIL_JOBS = 20  # jobs a stream or workstation detail lists
NAME_MAX = 64
UNKNOWN_TOOL = "Unknown tool {name!r}; the tools are: {known}."
BAD_ARGUMENTS = "Invalid arguments for {name}."
NOT_FOUND = "No {kind} named {name!r} in the plan."
JOB_NOT_FOUND = "No job with id {id} in the plan."
BAD_TIME = "Expected an ISO 8601 date-time or HH:MM (today, {tz})."

# The most queries one call of each tool may run (tests assert it, whatever the plan size).
MAX_QUERIES = {
    "search_jobs": 2,
    "status_summary": 1,
    "job_detail": 2,
    "stream_detail": 3,
    "workstation_detail": 3,
    # freshness (2 queries, kept a second) and the sync health check (up to 5, with an
    # enabled HWA connection and a run in progress)
    "sync_freshness": 7,
    "health": 0,  # the health checks run in their own threads and connections
    "propose_action": 2,  # the job, the proposal row
}


@dataclass
class ToolContext:
    """Who is asking, and what: tools that write (propose_action) need both."""

    user: Any
    question: str
    conversation: Any = None
    may_act: bool = False  # the request may perform job actions (role and API key scopes)
    proposals: list = field(default_factory=list)


@dataclass(frozen=True)
class ToolResult:
    """A tool's answer: JSON data for the model, and the jobs it names (for citations)."""

    data: dict
    error: bool = False
    jobs: tuple[tuple[int, str], ...] = ()


class ToolError(Exception):
    """A tool cannot answer these arguments; the message is told to the model."""

    def __init__(self, message: str, errors: dict | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


# --- Arguments ---------------------------------------------------------------------------


class PlanTime(serializers.Field):
    """An ISO 8601 date-time, or HH:MM meaning today in the plan's time zone."""

    def to_internal_value(self, data: Any) -> datetime:
        text = str(data).strip()
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text)
        if match:
            today = timezone.localdate()
            moment = datetime.combine(today, time(int(match[1]), int(match[2])))
            return timezone.make_aware(moment)
        try:
            value = parse_datetime(text)
        except ValueError:
            value = None
        if value is None:
            raise serializers.ValidationError(BAD_TIME.format(tz=timezone.get_current_timezone()))
        return value if timezone.is_aware(value) else timezone.make_aware(value)

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


def _name(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=NAME_MAX, **kwargs)


class NoArguments(serializers.Serializer):
    pass


class SearchJobsArguments(serializers.Serializer):
    status = serializers.CharField(required=False, max_length=32)
    internal_status = serializers.CharField(required=False, max_length=16)
    workstation = _name(required=False)
    stream = _name(required=False)
    name = _name(required=False)
    since = PlanTime(required=False)
    until = PlanTime(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, default=SEARCH_LIMIT)


class JobArguments(serializers.Serializer):
    job_id = serializers.IntegerField(min_value=1)


class StreamArguments(serializers.Serializer):
    stream = _name()


class WorkstationArguments(serializers.Serializer):
    workstation = _name()


class ProposeArguments(serializers.Serializer):
    job_id = serializers.IntegerField(min_value=1)
    action = serializers.ChoiceField(choices=JOB_ACTIONS)
    reason = serializers.CharField(max_length=500, required=False, default="")


# --- Results -----------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def job_row(job: Job) -> dict:
    """A job as tools show it (the model reads these fields)."""
    return {
        "id": job.pk,
        "name": job.name,
        "stream": job.stream.name,
        "workstation": job.workstation.name,
        "status": job.status,
        "internal_status": job.internal_state,
        "start": _iso(job.start),
        "end": _iso(job.end),
        "return_code": job.return_code,
    }


def _jobs(rows: list[Job]) -> tuple[tuple[int, str], ...]:
    return tuple((job.pk, job.name) for job in rows)


def _counts(queryset) -> dict[str, int]:
    rows = queryset.values_list("status").annotate(n=Count("id")).order_by()
    return dict(sorted(rows))


# --- The tools ---------------------------------------------------------------------------


def search_jobs(args: dict, context: ToolContext) -> ToolResult:
    data: dict[str, Any] = {}
    if "status" in args:
        data["status"] = [args["status"]]
    for source, target in (
        ("internal_status", "internal_state"),
        ("workstation", "workstation"),
        ("stream", "stream"),
        ("name", "q"),
    ):
        if args.get(source):
            data[target] = args[source]
    if "since" in args:
        data["start_after"] = args["since"].isoformat()
    if "until" in args:
        data["start_before"] = args["until"].isoformat()
    filterset = JobFilter(data, queryset=selectors.job_list().order_by("-start", "id"))
    if not filterset.is_valid():
        errors = {
            _argument(key): [str(e) for e in value] for key, value in filterset.errors.items()
        }
        raise ToolError(BAD_ARGUMENTS.format(name="search_jobs"), errors)
    limit = min(args["limit"], SEARCH_LIMIT_MAX)
    rows = list(filterset.qs[:limit])
    count = len(rows) if len(rows) < limit else filterset.qs.count()
    return ToolResult({"count": count, "jobs": [job_row(j) for j in rows]}, jobs=_jobs(rows))


def _argument(filter_name: str) -> str:
    """The tool argument a JobFilter parameter came from."""
    names = {"internal_state": "internal_status", "q": "name"}
    names.update(start_after="since", start_before="until")
    return names.get(filter_name, filter_name)


def status_summary(args: dict, context: ToolContext) -> ToolResult:
    counts = job_counts_by_status()
    return ToolResult({"counts": counts, "total": sum(counts.values())})


def job_detail(args: dict, context: ToolContext) -> ToolResult:
    job = selectors.job_detail_list().filter(pk=args["job_id"]).first()
    if job is None:
        raise ToolError(JOB_NOT_FOUND.format(id=args["job_id"]))
    events = [
        {"from_status": e.from_state, "to_status": e.to_state, "at": _iso(e.at)}
        for e in job.recent_events
    ]
    data = {**job_row(job), "rerun_count": job.rerun_count, "events": events}
    return ToolResult(data, jobs=_jobs([job]))


def _late(queryset, since: datetime | None):
    """Jobs holding something up: failed, held or blocked, or not ended once it was due."""
    stuck = Q(internal_state__in=FAILED_JOB_STATES) | Q(
        status__in=[JobStatus.HELD, JobStatus.BLOCKED]
    )
    if since is None or since <= timezone.now():
        stuck |= ~Q(internal_state__in=ENDED_JOB_STATES)
    return queryset.filter(stuck).order_by("start", "id")[:DETAIL_JOBS]


def stream_detail(args: dict, context: ToolContext) -> ToolResult:
    # A stream runs once per plan day and per workstation: the latest instance is the one asked.
    stream = (
        selectors.jobstream_list()
        .filter(name__iexact=args["stream"])
        .order_by("-scheduled_time", "-id")
        .first()
    )
    if stream is None:
        raise ToolError(NOT_FOUND.format(kind="job stream", name=args["stream"]))
    jobs = selectors.job_list().filter(stream=stream)
    late = list(_late(jobs, stream.scheduled_time))
    data = {
        "stream": {
            "id": stream.pk,
            "name": stream.name,
            "workstation": stream.workstation.name,
            "scheduled_time": _iso(stream.scheduled_time),
            "status": stream.state,  # the stream's internal state, as HWA reports it
            "job_count": stream.job_count,
        },
        "jobs_by_status": _counts(Job.objects.filter(stream=stream)),
        "late_jobs": [job_row(j) for j in late],
    }
    return ToolResult(data, jobs=_jobs(late))


def workstation_detail(args: dict, context: ToolContext) -> ToolResult:
    workstation = Workstation.objects.filter(name__iexact=args["workstation"]).first()
    if workstation is None:
        raise ToolError(NOT_FOUND.format(kind="workstation", name=args["workstation"]))
    late = list(_late(selectors.job_list().filter(workstation=workstation), None))
    data = {
        "workstation": {
            "id": workstation.pk,
            "name": workstation.name,
            "type": workstation.type,
            "link_state": workstation.link_state,
            "gone_at": _iso(workstation.gone_at),
        },
        "jobs_by_status": _counts(Job.objects.filter(workstation=workstation)),
        "late_jobs": [job_row(j) for j in late],
    }
    return ToolResult(data, jobs=_jobs(late))


def sync_freshness(args: dict, context: ToolContext) -> ToolResult:
    freshness = plan_freshness()
    try:
        check_hwa_sync()
        stale = False
    except RuntimeError:
        stale = True
    data = {"last_success": _iso(freshness.synced_at), "status": freshness.status, "stale": stale}
    return ToolResult(data)


def health(args: dict, context: ToolContext) -> ToolResult:
    report = health_report()
    components = {
        name: {"status": c["status"], "detail": c.get("detail", "")}
        for name, c in report["components"].items()
    }
    return ToolResult({"status": report["status"], "components": components})


def propose_action(args: dict, context: ToolContext) -> ToolResult:
    from apps.core.assistant.proposals import proposal_create, question_asks_for

    job = Job.objects.filter(pk=args["job_id"]).only("id", "name", "hwa_id").first()
    if job is None:
        raise ToolError(JOB_NOT_FOUND.format(id=args["job_id"]))
    if not question_asks_for(context.question, action=args["action"], job=job):
        raise ToolError(
            f"Not proposed: the user's question does not ask to {args['action']} job {job.name}."
            " Only propose what the user asked for."
        )
    proposal = proposal_create(
        user=context.user,
        conversation=context.conversation,
        job=job,
        action=args["action"],
        reason=args["reason"],
        allowed=context.may_act,
    )
    context.proposals.append(proposal)
    data = {
        "proposal_id": proposal.pk,
        "job_id": job.pk,
        "job": job.name,
        "action": proposal.action,
        "allowed": proposal.allowed,
        "status": "awaiting the user's confirmation; nothing was done",
    }
    return ToolResult(data, jobs=_jobs([job]))


# --- Registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict
    arguments: type[serializers.Serializer]
    run: Callable[[dict, ToolContext], ToolResult]


def _schema(properties: dict | None = None, required: tuple[str, ...] = ()) -> dict:
    return {
        "type": "object",
        "properties": properties or {},
        "required": list(required),
        "additionalProperties": False,
    }


_STRING = {"type": "string", "maxLength": NAME_MAX}
_TIME = {"type": "string", "description": "ISO 8601 date-time, or HH:MM today (plan time)."}
TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "search_jobs",
            "Find jobs of the current plan. Filters: high-level status (Error, Held, Waiting,"
            " Running, Successful...), internal status (ABEND, HOLD...), workstation, job"
            " stream, part of the job name, and start time bounds.",
            _schema(
                {
                    "status": {"type": "string", "enum": list(JobStatus.values)},
                    "internal_status": {"type": "string", "maxLength": 16},
                    "workstation": _STRING,
                    "stream": _STRING,
                    "name": _STRING,
                    "since": _TIME,
                    "until": _TIME,
                    "limit": {"type": "integer", "minimum": 1, "maximum": SEARCH_LIMIT_MAX},
                }
            ),
            SearchJobsArguments,
            search_jobs,
        ),
        Tool(
            "status_summary",
            "Count the jobs of the current plan by high-level status.",
            _schema(),
            NoArguments,
            status_summary,
        ),
        Tool(
            "job_detail",
            "One job with its recent status changes.",
            _schema({"job_id": {"type": "integer", "minimum": 1}}, ("job_id",)),
            JobArguments,
            job_detail,
        ),
        Tool(
            "stream_detail",
            "A job stream (latest instance): its jobs by status and the jobs holding it up.",
            _schema({"stream": _STRING}, ("stream",)),
            StreamArguments,
            stream_detail,
        ),
        Tool(
            "workstation_detail",
            "A workstation: link state, its jobs by status and the jobs holding it up.",
            _schema({"workstation": _STRING}, ("workstation",)),
            WorkstationArguments,
            workstation_detail,
        ),
        Tool(
            "sync_freshness",
            "When the plan mirror last synced from HWA, and whether it is stale.",
            _schema(),
            NoArguments,
            sync_freshness,
        ),
        Tool(
            "health",
            "Health of Resync and its dependencies.",
            _schema(),
            NoArguments,
            health,
        ),
        Tool(
            "propose_action",
            "Propose a job action (rerun, hold, release, cancel) for the user to confirm. It"
            " performs nothing. Only when the user's question asks for that action on that job.",
            _schema(
                {
                    "job_id": {"type": "integer", "minimum": 1},
                    "action": {"type": "string", "enum": list(JOB_ACTIONS)},
                    "reason": {"type": "string", "maxLength": 500},
                },
                ("job_id", "action"),
            ),
            ProposeArguments,
            propose_action,
        ),
    )
}


def tool_schemas() -> list[dict]:
    """The tools in the chat-completions `tools` format."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in TOOLS.values()
    ]


def tool_call(name: str, arguments: Any, context: ToolContext) -> ToolResult:
    """Run tool `name`; unknown tools and bad arguments come back as an error result."""
    tool = TOOLS.get(name)
    if tool is None:
        return _error(UNKNOWN_TOOL.format(name=name, known=", ".join(TOOLS)))
    if not isinstance(arguments, dict):
        return _error(BAD_ARGUMENTS.format(name=name), {"arguments": ["Expected an object."]})
    unknown = sorted(set(arguments) - set(tool.arguments().fields))
    if unknown:
        return _error(BAD_ARGUMENTS.format(name=name), {k: ["Unknown argument."] for k in unknown})
    serializer = tool.arguments(data=arguments)
    if not serializer.is_valid():
        return _error(BAD_ARGUMENTS.format(name=name), serializer.errors)
    try:
        return tool.run(dict(serializer.validated_data), context)
    except ToolError as exc:
        return _error(str(exc), exc.errors)


def _error(message: str, errors: dict | None = None) -> ToolResult:
    data: dict[str, Any] = {"error": message}
    if errors:
        data["errors"] = {key: [str(m) for m in value] for key, value in errors.items()}
    return ToolResult(data, error=True)
