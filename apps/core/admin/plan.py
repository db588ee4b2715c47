"""Admin pages of the plan mirror: searchable, filterable and read-only.

The plan belongs to HWA; Resync only mirrors it, so nothing here is editable.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.text import slugify

from apps.core.admin.readonly import ReadOnlyAdmin
from apps.core.models import Job, JobStatusEvent, JobStream, Workstation
from apps.security.permissions import VIEW_PLAN

JOB_STATUS_CSS = "core/css/admin-job-status.css"


def job_status_html(status: str) -> str:
    """The high-level status as text after a mark in its colour (admin-job-status.css)."""
    return format_html('<span class="job-status job-status--{}">{}</span>', slugify(status), status)


class ListedByHwaFilter(admin.SimpleListFilter):
    """Workstations HWA lists now, or those it stopped listing (marked gone)."""

    title = "listed by HWA"
    parameter_name = "listed"

    def lookups(self, request, model_admin):
        return [("yes", "Listed"), ("no", "Gone")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(gone_at__isnull=self.value() == "yes")
        return queryset


@admin.register(Workstation)
class WorkstationAdmin(ReadOnlyAdmin):
    required_permission = VIEW_PLAN
    list_display = ["name", "type", "link_state", "updated_at", "gone_at"]
    list_filter = [ListedByHwaFilter, "type", "link_state"]
    search_fields = ["name"]


@admin.register(JobStream)
class JobStreamAdmin(ReadOnlyAdmin):
    required_permission = VIEW_PLAN
    list_display = ["name", "workstation", "scheduled_time", "state"]
    list_filter = ["state", "workstation__type"]
    search_fields = ["name", "hwa_id", "workstation__name"]
    date_hierarchy = "scheduled_time"
    list_select_related = ["workstation"]


class JobStatusEventInline(admin.TabularInline):
    model = JobStatusEvent
    fields = ["at", "from_state", "to_state"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-at"]

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(VIEW_PLAN)  # as the job page it sits on


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    required_permission = VIEW_PLAN
    list_display = [
        "name",
        "stream",
        "workstation",
        "high_level_status",
        "internal_state",
        "return_code",
        "start",
        "end",
        "rerun_count",
    ]
    list_filter = ["status", "internal_state", "workstation__type", "workstation"]
    search_fields = ["name", "hwa_id", "stream__name", "workstation__name"]
    date_hierarchy = "start"
    list_select_related = ["stream__workstation", "workstation"]
    inlines = [JobStatusEventInline]
    show_full_result_count = False  # a COUNT(*) over the whole plan on every page is waste
    # The status is computed by the database (not a form field): shown read-only, in place.
    fields = [
        "name",
        "hwa_id",
        "high_level_status",
        "internal_state",
        "stream",
        "workstation",
        "return_code",
        "start",
        "end",
        "rerun_count",
        "updated_at",
    ]
    readonly_fields = ["high_level_status"]

    class Media:
        css = {"all": [JOB_STATUS_CSS]}

    @admin.display(description="status", ordering="status")
    def high_level_status(self, job: Job) -> str:
        return job_status_html(job.status)


@admin.register(JobStatusEvent)
class JobStatusEventAdmin(ReadOnlyAdmin):
    required_permission = VIEW_PLAN
    list_display = ["job", "from_state", "to_state", "at"]
    list_filter = ["to_state"]
    search_fields = ["job__name", "job__hwa_id"]
    date_hierarchy = "at"
    list_select_related = ["job"]
    raw_id_fields = ["job"]
