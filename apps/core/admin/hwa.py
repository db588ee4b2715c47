"""Admin of the HWA integration: the connection (editable, audited), sync runs, job actions."""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib import admin, messages

from apps.core.admin.readonly import ReadOnlyAdmin
from apps.core.models import HwaConnection, JobAction, SyncRun
from apps.core.models.hwa import EDITABLE_FIELDS
from apps.core.services.hwa import (
    REDIRECT_NEEDS_REENTRY,
    hwa_connection_save,
    hwa_connection_test,
    redirecting_changes,
)
from apps.security.permissions import (
    ADMINISTER,
    TEST_HWA_CONNECTION,
    VIEW_MONITORING,
    RequiredPermissionAdmin,
)

TEST_OK = "{name}: {detail}"
TEST_FAILED = "{name}: connection test failed: {detail}"


class HwaConnectionForm(forms.ModelForm):
    """The connection form; the password is write-only (never rendered back).

    A new base URL or turning off the TLS check needs the password typed again (the service
    enforces the same rule; here it is a field error rather than a failed save).
    """

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

    def clean(self):
        cleaned = super().clean()
        stored = HwaConnection.objects.filter(pk=self.instance.pk).first()
        redirects = redirecting_changes(
            stored,
            base_url=cleaned.get("base_url", stored.base_url if stored else ""),
            verify_tls=cleaned.get("verify_tls", True),
        )
        if redirects and not cleaned.get("new_password"):
            self.add_error("new_password", REDIRECT_NEEDS_REENTRY)
        return cleaned


@admin.register(HwaConnection)
class HwaConnectionAdmin(RequiredPermissionAdmin, admin.ModelAdmin):
    required_permission = ADMINISTER
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

    def has_test_hwa_connection_permission(self, request) -> bool:
        return request.user.has_perm(TEST_HWA_CONNECTION)

    @admin.action(description="Test connection", permissions=["test_hwa_connection"])
    def test_connection(self, request, queryset) -> None:
        for connection in queryset:  # saved rows: the test reaches the saved URL only
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
    required_permission = VIEW_MONITORING
    list_display = [
        "started_at",
        "finished_at",
        "status",
        "events",
        "repeats",
        "last_finished_at",
        "host",
        "request_id",
        "error",
    ]
    list_filter = ["status"]
    search_fields = ["request_id", "host", "error"]
    date_hierarchy = "started_at"


@admin.register(JobAction)
class JobActionAdmin(ReadOnlyAdmin):
    required_permission = VIEW_MONITORING
    list_display = ["at", "action", "job_name", "actor_name", "outcome", "state_after"]
    list_filter = ["action", "outcome"]
    search_fields = ["job_name", "job_hwa_id", "actor_name", "detail"]
    date_hierarchy = "at"
