"""The assistant's tools over the mirror: answers, argument errors, bounded queries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from apps.core.assistant.tools import (
    MAX_QUERIES,
    SEARCH_LIMIT,
    SEARCH_LIMIT_MAX,
    TOOLS,
    ToolContext,
    tool_call,
    tool_schemas,
)
from apps.core.models import ActionProposal, Job
from apps.core.states import JobStatus
from tests.factories import (
    JobFactory,
    JobStatusEventFactory,
    JobStreamFactory,
    UserFactory,
    WorkstationFactory,
)

pytestmark = pytest.mark.django_db


def _today_at(hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time())).replace(
        hour=hour, minute=minute
    )


@pytest.fixture
def plan():
    fta = WorkstationFactory(name="FTA006", type="FTA")
    other = WorkstationFactory(name="AGENT001")
    payroll = JobStreamFactory(name="PAYROLL", workstation=fta, scheduled_time=_today_at(1))
    billing = JobStreamFactory(name="BILLING", workstation=other)
    early = JobFactory(
        name="PAY_EXTRACT", stream=payroll, internal_state="ABEND", start=_today_at(1), end=None
    )
    late = JobFactory(
        name="PAY_RUN#01", stream=payroll, internal_state="ABEND", start=_today_at(3), end=None
    )
    held = JobFactory(name="PAY_PRINT", stream=payroll, internal_state="HOLD", start=None)
    JobFactory(name="PAY_DONE", stream=payroll, internal_state="SUCC", start=_today_at(2))
    JobFactory(name="BILL_RUN", stream=billing, internal_state="ABEND", start=_today_at(4))
    return {"early": early, "late": late, "held": held, "fta": fta, "payroll": payroll}


def context(question: str = "", **kwargs) -> ToolContext:
    return ToolContext(user=kwargs.pop("user", None), question=question, **kwargs)


def test_every_tool_has_a_schema_the_model_is_told():
    names = [schema["function"]["name"] for schema in tool_schemas()]

    assert names == list(TOOLS) == list(MAX_QUERIES)
    for schema in tool_schemas():
        assert schema["type"] == "function"
        assert schema["function"]["parameters"]["type"] == "object"


def test_search_jobs_means_what_the_api_filters_mean(plan):
    result = tool_call(
        "search_jobs",
        {"status": "error", "workstation": "FTA006", "since": "02:00"},
        context(),
    )

    assert not result.error, result.data
    assert result.data["count"] == 1
    [job] = result.data["jobs"]
    assert job["name"] == "PAY_RUN#01"
    assert (job["status"], job["internal_status"], job["stream"]) == ("Error", "ABEND", "PAYROLL")
    assert result.jobs == ((plan["late"].pk, "PAY_RUN#01"),)


def test_search_jobs_takes_iso_times_and_names(plan):
    since = (_today_at(0) - timedelta(days=1)).isoformat()
    result = tool_call("search_jobs", {"name": "pay_", "since": since, "until": "02:30"}, context())

    assert [j["name"] for j in result.data["jobs"]] == ["PAY_DONE", "PAY_EXTRACT"]


def test_search_jobs_counts_beyond_its_limit(plan):
    JobFactory.create_batch(SEARCH_LIMIT_MAX + 5, stream=plan["payroll"], internal_state="WAIT")

    default = tool_call("search_jobs", {"status": "Waiting"}, context())
    over = tool_call("search_jobs", {"status": "Waiting", "limit": 500}, context())

    assert default.data["count"] == SEARCH_LIMIT_MAX + 5
    assert len(default.data["jobs"]) == SEARCH_LIMIT
    assert len(over.data["jobs"]) == SEARCH_LIMIT_MAX


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"status": "Exploded"}, "status"),
        ({"since": "yesterday"}, "since"),
        ({"until": "25:00"}, "until"),
        ({"limit": 0}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"workstation": "W" * 65}, "workstation"),
        ({"password": "x"}, "password"),
    ],
)
def test_bad_arguments_are_a_tool_error_naming_them(plan, arguments, field):
    result = tool_call("search_jobs", arguments, context())

    assert result.error
    assert field in result.data["errors"]


@pytest.mark.parametrize("arguments", [None, [], "job 1", 5])
def test_arguments_that_are_not_an_object_are_a_tool_error(arguments):
    assert tool_call("job_detail", arguments, context()).error


def test_an_unknown_tool_is_a_tool_error_listing_the_tools():
    result = tool_call("drop_tables", {}, context())

    assert result.error
    assert "search_jobs" in result.data["error"]


def test_status_summary_counts_every_status(plan):
    result = tool_call("status_summary", {}, context())

    assert result.data["total"] == 5
    assert result.data["counts"]["Error"] == 3
    assert result.data["counts"]["Held"] == 1
    assert set(result.data["counts"]) == set(JobStatus.values)


def test_job_detail_has_the_events(plan):
    JobStatusEventFactory(job=plan["late"], from_state="EXEC", to_state="ABEND")

    result = tool_call("job_detail", {"job_id": plan["late"].pk}, context())

    assert result.data["name"] == "PAY_RUN#01"
    assert result.data["events"][0]["to_status"] == "ABEND"
    assert tool_call("job_detail", {"job_id": 99_999_999}, context()).error


def test_stream_detail_names_the_jobs_holding_it_up(plan):
    result = tool_call("stream_detail", {"stream": "payroll"}, context())

    assert result.data["stream"]["name"] == "PAYROLL"
    assert result.data["jobs_by_status"] == {"Error": 2, "Held": 1, "Successful": 1}
    late = {job["name"] for job in result.data["late_jobs"]}
    assert late == {"PAY_EXTRACT", "PAY_RUN#01", "PAY_PRINT"}
    assert tool_call("stream_detail", {"stream": "NOPE"}, context()).error


def test_workstation_detail(plan):
    result = tool_call("workstation_detail", {"workstation": "fta006"}, context())

    assert result.data["workstation"]["type"] == "FTA"
    assert result.data["jobs_by_status"]["Error"] == 2
    assert tool_call("workstation_detail", {"workstation": "NOPE"}, context()).error


def test_sync_freshness_without_any_sync(db):
    result = tool_call("sync_freshness", {}, context())

    assert result.data == {"last_success": None, "status": "never", "stale": False}


def test_health_reports_components(db):
    result = tool_call("health", {}, context())

    assert result.data["status"] in ("healthy", "degraded", "unhealthy")
    assert "database" in result.data["components"]


def test_propose_action_records_a_proposal_only_when_asked(plan):
    user = UserFactory()
    job = plan["late"]
    asked = context(f"please rerun {job.name}", user=user, conversation=_conversation(user))
    not_asked = context(f"why did {job.name} fail?", user=user, conversation=asked.conversation)

    refused = tool_call("propose_action", {"job_id": job.pk, "action": "rerun"}, not_asked)
    proposed = tool_call("propose_action", {"job_id": job.pk, "action": "rerun"}, asked)

    assert refused.error
    assert "does not ask" in refused.data["error"]
    assert not proposed.error
    assert proposed.data["allowed"] is False  # may_act was not given
    proposal = ActionProposal.objects.get()
    assert (proposal.action, proposal.job_hwa_id, proposal.used_at) == ("rerun", job.hwa_id, None)
    assert asked.proposals == [proposal]
    assert Job.objects.get(pk=job.pk).internal_state == "ABEND"  # nothing was performed


def _conversation(user):
    from apps.core.assistant.conversations import conversation_start

    return conversation_start(user=user, question="q")


CALLS = {
    "search_jobs": {"status": "Error", "workstation": "FTA006", "since": "00:00", "limit": 50},
    "status_summary": {},
    "job_detail": "late",
    "stream_detail": {"stream": "PAYROLL"},
    "workstation_detail": {"workstation": "FTA006"},
    "sync_freshness": {},
    "health": {},
    "propose_action": "propose",
}


@pytest.mark.parametrize("name", list(CALLS))
def test_each_tool_runs_a_bounded_number_of_queries(
    plan, name, django_assert_max_num_queries, django_assert_num_queries
):
    # Enough rows that a per-row query would show: 120 jobs with events, 3 streams.
    for stream in [plan["payroll"], *JobStreamFactory.create_batch(2, workstation=plan["fta"])]:
        for job in JobFactory.create_batch(40, stream=stream, internal_state="ABEND"):
            JobStatusEventFactory(job=job, to_state="ABEND")
    user = UserFactory()
    arguments = CALLS[name]
    if arguments == "late":
        arguments = {"job_id": plan["late"].pk}
    if arguments == "propose":
        arguments = {"job_id": plan["late"].pk, "action": "hold"}
    ctx = context(f"hold {plan['late'].name}", user=user, conversation=_conversation(user))
    user.has_perm("core.act_on_job")  # the permission cache, as the view warms it

    with django_assert_max_num_queries(MAX_QUERIES[name]):
        result = tool_call(name, arguments, ctx)

    assert not result.error, result.data
