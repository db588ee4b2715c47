"""Admin of the HWA integration: the connection (editable, audited), sync runs, job actions."""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib import admin, messages

from apps.core.admin.readonly import ReadOnlyAdmin
from apps.core.models import HwaConnection, JobAction, SyncRun
from apps.core.models.hwa import EDITABLE_FIELDS
from apps.core.services.hwa import hwa_connection_save, hwa_connection_test

TEST_OK = "{name}: {detail}"
TEST_FAILED = "{name}: connection test failed: {detail}"


class HwaConnectionForm(forms.ModelForm):
    """The connection form; the password is write-only (never rendered back)."""

    new_password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="HWA password, stored encrypted. Leave blank to keep the current one.",
    )

    class Meta:
        model = HwaConnection
        fields = list(EDITABLE_FIELDS)
        # A base URL typed without a scheme means HTTPS, as HWA serves it.
        field_classes = {"base_url": partial(forms.URLField, assume_scheme="https")}


@admin.register(HwaConnection)
class HwaConnectionAdmin(admin.ModelAdmin):
    form = HwaConnectionForm
    list_display = [
        "name",
        "enabled",
        "base_url",
        "username",
        "flavour",
        "sync_interval",
        "version",
        "updated_at",
    ]
    readonly_fields = ["version", "created_at", "updated_at"]
    actions = ["test_connection"]
    fieldsets = [
        (None, {"fields": ["name", "enabled", "base_url", "flavour"]}),
        ("Credentials", {"fields": ["username", "new_password", "verify_tls"]}),
        ("Timing", {"fields": ["connect_timeout", "read_timeout", "page_size", "sync_interval"]}),
        ("Bookkeeping", {"fields": ["version", "created_at", "updated_at"]}),
    ]

    def save_model(self, request, obj, form, change) -> None:
        password = form.cleaned_data.get("new_password") or None
        hwa_connection_save(connection=obj, actor=request.user, source="admin", password=password)

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset) -> None:
        for connection in queryset:
            check = hwa_connection_test(connection=connection)
            if check.ok:
                self.message_user(
                    request, TEST_OK.format(name=connection.name, detail=check.detail)
                )
            else:
                self.message_user(
                    request,
                    TEST_FAILED.format(name=connection.name, detail=check.detail),
                    level=messages.ERROR,
                )


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "finished_at",
        "status",
        "events",
        "repeats",
        "last_finished_at",
        "host",
        "error",
    ]
    list_filter = ["status"]
    date_hierarchy = "started_at"


@admin.register(JobAction)
class JobActionAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "job_name", "actor_name", "outcome", "state_after"]
    list_filter = ["action", "outcome"]
    search_fields = ["job_name", "job_hwa_id", "actor_name", "detail"]
    date_hierarchy = "at"
