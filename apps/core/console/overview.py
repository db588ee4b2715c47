"""Overview (/): counts per status, the day's chart, problems first, the sync banner.

The plan part (counts, chart, problems) is computed and rendered to HTML once per plan
generation and minute (late jobs and the chart move with the clock) and cached like the
API's reads, so a page costs the same on 100 or 100,000 jobs: rendering the chart and its
table was ~14 ms of template work per request (issue 13's profile), now once a minute. The
banner is read and rendered fresh (the freshness is kept for a second in the process). The
live part is also served alone (`OverviewLiveView`): the page's script swaps it in every
few seconds.
"""

from __future__ import annotations

from dataclasses import asdict

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone

from apps.cache.flight import get_or_compute
from apps.core.console.access import ConsoleView
from apps.core.console.charts import stacked_hours, status_slug
from apps.core.plan_generation import plan_generation
from apps.core.selectors.console import job_problem_list, job_status_timeline, sync_banner
from apps.core.selectors.plan import job_counts_by_status
from apps.core.states import JobStatus
from apps.security.permissions import VIEW_MONITORING, VIEW_PLAN, request_allows

REFRESH_SECONDS = 5
# Statuses in the order an operator reads them: what needs attention first.
STATUS_ORDER = (
    JobStatus.ERROR, JobStatus.HELD, JobStatus.BLOCKED, JobStatus.RUNNING, JobStatus.READY,
    JobStatus.WAITING, JobStatus.SUCCESSFUL, JobStatus.CANCELED, JobStatus.SUPPRESSED,
    JobStatus.UNDECIDED,
)  # fmt: skip


def overview_plan(now) -> tuple[str, str]:
    """Counts, chart and problems as HTML, cached per plan generation and minute; returns
    the cache key with it (the key names the content of the page kept whole).

    Nothing in it depends on who asks (the menu and the user are the layout's), so every
    user shares one rendering. A SafeString: the template escaped it, and pickling keeps
    its class through the cache.
    """
    key = f"console:overview:html:g{plan_generation()}:{minute_of(now)}"
    return key, get_or_compute(key, lambda: _render_plan(now), timeout=120)


def _render_plan(now) -> str:
    context = {**_compute(now), "statuses": [s.value for s in STATUS_ORDER]}
    return render_to_string("console/_overview_plan.html", context)


def minute_of(now) -> str:
    """The cache bucket: late jobs and the chart's current hour move with the clock."""
    return f"{now:%Y%m%d%H%M}"


def _compute(now) -> dict:
    counts = job_counts_by_status()
    timeline = job_status_timeline(now=now, current=counts)
    problems = job_problem_list(counts=counts, now=now)
    return {
        "total": sum(counts.values()),
        "counts": [
            {"status": s.value, "slug": status_slug(s.value), "count": counts[s.value]}
            for s in STATUS_ORDER
        ],
        "chart": stacked_hours(timeline.hours, timeline.counts),
        "timeline": [
            {"hour": hour, "counts": [c[s.value] for s in STATUS_ORDER]}
            for hour, c in zip(timeline.hours, timeline.counts, strict=True)
        ],
        "problems": [
            {
                "key": p.key,
                "label": p.label,
                "count": p.count,
                "jobs": [_row(job) for job in p.jobs],
            }
            for p in problems
        ],
        "computed_at": now,
    }


def _row(job) -> dict:
    return {
        "id": job.pk,
        "name": job.name,
        "stream": job.stream.name,
        "workstation": job.workstation.name,
        "internal_state": job.internal_state,
        "status": job.status,
        "slug": status_slug(job.status),
        "updated_at": job.updated_at,
        "scheduled_time": job.stream.scheduled_time,
    }


def live_context(now) -> tuple[dict, tuple]:
    """The live part's context, and the key naming it: the plan part's cache key, and the
    banner's values with the minute (it says how long ago the last sync was)."""
    plan_key, plan_html = overview_plan(now)
    banner = asdict(sync_banner(now=now))
    return {"plan_html": plan_html, "banner": banner}, (plan_key, tuple(banner.values()))


class OverviewView(ConsoleView):
    """The plan at a glance; what needs attention first."""

    required_permission = VIEW_PLAN
    section = "home"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Auditors read monitoring, not the plan: their start page is System.
        if (
            request.user.is_authenticated
            and not request_allows(request, VIEW_PLAN)
            and request_allows(request, VIEW_MONITORING)
        ):
            return redirect("console-system")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        live, content_key = live_context(timezone.now())
        context = {**live, "refresh_seconds": REFRESH_SECONDS}
        return self.render_shared(
            request, "console/overview.html", context, content_key=content_key
        )


class OverviewLiveView(ConsoleView):
    """The overview's live part alone, for the page's auto-refresh."""

    required_permission = VIEW_PLAN

    def get(self, request: HttpRequest) -> HttpResponse:
        live, _key = live_context(timezone.now())
        return self.render(request, "console/_overview_live.html", live)
