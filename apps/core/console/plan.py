"""Job streams (/streams/) and workstations (/workstations/): progress and derived state.

Each page lists one page of rows through the API's FilterSet, then reads the progress of
just those rows in one grouped query (apps.core.selectors.console.job_progress_by).
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import urlencode

from apps.core.console.access import ConsoleView
from apps.core.console.charts import status_slug
from apps.core.filters import JobStreamFilter, WorkstationFilter
from apps.core.selectors import workstation_list
from apps.core.selectors.console import derived_state, job_progress_by, jobstream_rows
from apps.core.states import JobStatus, status_for
from apps.security.permissions import VIEW_PLAN

PAGE_SIZE = 50


def _segments(progress) -> list[dict]:
    """The progress by status, in the order of JobStatus, for the bar and its text."""
    if progress is None:
        return []
    segments, x = [], 0
    for status in JobStatus.values:
        count = progress.by_status.get(status, 0)
        if count:
            segments.append({"status": status, "slug": status_slug(status), "count": count, "x": x})
            x += count
    return segments


def _state_row(state: str) -> dict:
    status = status_for(state).value
    return {"state": state, "status": status, "slug": status_slug(status)}


class _ProgressListView(ConsoleView):
    required_permission = VIEW_PLAN
    filterset_class: type = JobStreamFilter
    template = ""
    key = ""  # "stream" or "workstation"

    def rows(self):
        raise NotImplementedError

    def get(self, request: HttpRequest) -> HttpResponse:
        found = self.filterset_class(request.GET, queryset=self.rows())
        query = sorted(
            (k, v) for k in self.filterset_class.base_filters for v in request.GET.getlist(k) if v
        )
        context = {"form": found.form, "base_query": urlencode(query)}
        if not found.is_valid():
            context["errors"] = found.form.errors
            return self.render(request, self.template, context, status=400)
        page = Paginator(found.qs, PAGE_SIZE).get_page(request.GET.get("page"))
        progress = job_progress_by(self.key, [row.pk for row in page])
        now = timezone.now()
        context["page"] = page
        context["rows"] = [self.row(item, progress.get(item.pk), now) for item in page]
        return self.render(request, self.template, context)

    def row(self, item, progress, now) -> dict:
        return {
            "item": item,
            "progress": progress,
            "segments": _segments(progress),
            "derived": _state_row(derived_state(progress, due=self.due(item, now))),
        }

    def due(self, item, now) -> bool:
        return True


class JobStreamListView(_ProgressListView):
    """Job streams: jobs done of total, by status, and the state their jobs imply."""

    section = "console-streams"
    filterset_class = JobStreamFilter
    template = "console/streams.html"
    key = "stream"

    def rows(self):
        return jobstream_rows()

    def due(self, item, now) -> bool:
        return item.scheduled_time is None or item.scheduled_time <= now

    def row(self, item, progress, now) -> dict:
        return {**super().row(item, progress, now), "reported": _state_row(item.state)}


class WorkstationListView(_ProgressListView):
    """Workstations: link state, jobs done of total, by status, and the state they imply."""

    section = "console-workstations"
    filterset_class = WorkstationFilter
    template = "console/workstations.html"
    key = "workstation"

    def rows(self):
        return workstation_list()
