"""Jobs (/jobs/) and one job (/jobs/<id>/), with the job actions for operators.

The list takes the API's filters under the API's names (apps.core.filters.JobFilter), so a
console URL and an API URL share their query, and the Export button hands it on. Its table
content is rendered once per plan generation, minute and query and cached like the API's
reads; only the layout (menu, user) is rendered per request.

A job action posts to the job's page: the same service as the API
(apps.core.services.actions.job_action_perform: HWA once, a JobAction row, the audit log,
the read-back), then redirects back with the outcome, or HWA's refusal verbatim.
"""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import urlencode

from apps.cache.flight import get_or_compute
from apps.core.console.access import ConsoleView
from apps.core.console.charts import status_slug
from apps.core.console.overview import minute_of
from apps.core.filters import JobFilter
from apps.core.hwa.errors import HwaError
from apps.core.plan_generation import plan_generation
from apps.core.selectors import job_detail_list, job_list
from apps.core.selectors.console import job_action_recent
from apps.core.services.actions import JOB_ACTIONS, job_action_perform
from apps.core.states import JobStatus, status_for
from apps.security.permissions import ACT_ON_JOB, VIEW_PLAN

PAGE_SIZE = 50
# (column, label): the columns a user may sort by, as the API's `ordering` names them.
SORTABLE = (
    ("name", "Job"),
    ("status", "Status"),
    ("internal_state", "State"),
    ("start", "Start"),
    ("end", "End"),
    ("return_code", "RC"),
    ("rerun_count", "Reruns"),
)
DEFAULT_ORDERING = "-start"
FILTERS = tuple(JobFilter.base_filters)
UNKNOWN_ACTION = "Unknown job action {action!r}."
ACTION_DONE = "HWA accepted {action} of {job}. {detail}"
ACTION_STATE = "State now: {state}."
ACTION_REFUSED = "HWA did not {action} {job}: {error}"
ACTION_LABELS = {"rerun": "Rerun", "hold": "Hold", "release": "Release", "cancel": "Cancel"}


def filter_query(params) -> list[tuple[str, str]]:
    """The filter parameters of `params`, sorted, empty ones dropped (the shareable query)."""
    return sorted((k, v) for k in FILTERS for v in params.getlist(k) if v)


def ordering_of(params) -> str:
    value = params.get("ordering", "")
    return value if value.lstrip("-") in dict(SORTABLE) else DEFAULT_ORDERING


class JobListView(ConsoleView):
    """Jobs, filtered, sorted and paginated; the filter lives in the URL."""

    required_permission = VIEW_PLAN
    section = "console-jobs"

    def get(self, request: HttpRequest) -> HttpResponse:
        query = filter_query(request.GET)
        try:
            key, main = _main(query, ordering_of(request.GET), request.GET.get("page", "1"))
        except _InvalidFilters as exc:
            return self.render(request, "console/jobs.html", exc.context, status=400)
        return self.render_shared(request, "console/jobs.html", {"main": main}, content_key=key)


class _InvalidFilters(Exception):
    """The filters do not validate: the page shows the form with its errors (a 400)."""

    def __init__(self, context: dict) -> None:
        super().__init__()
        self.context = context


def _main(query: list[tuple[str, str]], ordering: str, page: str) -> tuple[str, str]:
    """The page's content (filter form, table, pager) rendered once per plan generation,
    minute (running jobs' durations move with the clock) and query, and cached like the API's
    reads: nothing in it depends on the user (the layout around it does). A hit skips the
    FilterSet, its form and ~2 ms of template work (issue 13's profile). Returns the cache
    key with the content: it names the content for the page kept whole (layout.page_shared)."""
    where = urlencode([*query, ("ordering", ordering), ("page", page)])
    digest = hashlib.blake2b(where.encode(), digest_size=16).hexdigest()
    now = timezone.now()
    key = f"console:jobs:g{plan_generation()}:{minute_of(now)}:{digest}"
    # The FilterSet reads the normalised query, not the request: the page is then a function
    # of the key alone (`q=a&q=b` and `q=b&q=a` are one key, so they must be one answer).
    params = QueryDict(urlencode(query), mutable=False)

    def render() -> str:
        jobs = JobFilter(params, queryset=job_list())
        context = {
            "form": jobs.form,
            "statuses": [(s, s in params.getlist("status")) for s in JobStatus.values],
            "export_query": urlencode(query),
        }
        if not jobs.is_valid():
            raise _InvalidFilters({**context, "errors": jobs.form.errors})
        field = ordering.lstrip("-")
        ordered = jobs.qs.order_by(ordering, "id" if not ordering.startswith("-") else "-id")
        context.update(
            page=Paginator(ordered, PAGE_SIZE).get_page(page),
            columns=_columns(query, ordering, field),
            base_query=urlencode([*query, ("ordering", ordering)]),
            now=now,
        )
        return render_to_string("console/_jobs_main.html", context)

    # A SafeString (the template escaped it), and pickling keeps its class through the cache.
    return key, get_or_compute(key, render, timeout=120)


def _columns(query, ordering: str, field: str) -> list[dict]:
    columns = []
    for name, label in SORTABLE:
        descending = field == name and ordering.startswith("-")
        target = name if descending or field != name else f"-{name}"
        sort = ("descending" if descending else "ascending") if field == name else "none"
        href = "?" + urlencode([*query, ("ordering", target)])
        columns.append({"name": name, "label": label, "href": href, "sort": sort})
    return columns


class JobDetailView(ConsoleView):
    """One job: every field, its status events, and the actions an operator may take."""

    required_permission = {"GET": VIEW_PLAN, "POST": ACT_ON_JOB}
    section = "console-jobs"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = get_object_or_404(job_detail_list(), pk=pk)
        context = {
            "job": job,
            "slug": status_slug(job.status),
            "events": [
                {"event": e, "slug": status_slug(status_for(e.to_state).value)}
                for e in job.recent_events
            ],
            "actions": list(ACTION_LABELS.items()),
            "recent_actions": job_action_recent(job),
            "now": timezone.now(),
        }
        return self.render(request, "console/job.html", context)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = get_object_or_404(job_list(), pk=pk)
        action = request.POST.get("action", "")
        if action not in JOB_ACTIONS:
            messages.error(request, UNKNOWN_ACTION.format(action=action[:32]))
            return redirect("console-job", pk=job.pk)
        try:
            record = job_action_perform(job=job, action=action, actor=request.user)
        except HwaError as exc:
            # HWA's own words, as it gave them: the operator needs its reason.
            messages.error(request, ACTION_REFUSED.format(action=action, job=job.name, error=exc))
        else:
            text = ACTION_DONE.format(action=action, job=job.name, detail=record.detail)
            if record.state_after:
                text += " " + ACTION_STATE.format(state=record.state_after)
            messages.success(request, text.strip())
        return redirect("console-job", pk=job.pk)
