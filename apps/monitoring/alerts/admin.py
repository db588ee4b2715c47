"""Admin of alerts: rules and webhook channels (administrators, audited), alerts and
notifications (read-only, monitoring readers), and "Send a test notification"."""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin.readonly import ReadOnlyAdmin
from apps.monitoring.alerts.models import (
    WEBHOOK_SECRET_MIN_LENGTH,
    Alert,
    AlertRule,
    Notification,
    WebhookChannel,
)
from apps.monitoring.alerts.services import (
    alert_rule_delete,
    alert_rule_save,
    notification_test,
    webhook_channel_delete,
    webhook_channel_save,
)
from apps.security.permissions import ADMINISTER, VIEW_MONITORING, RequiredPermissionAdmin

SECRET_REQUIRED = "A new channel needs a secret: receivers check signatures with it."  # noqa: S105
TEST_SENT = "{name}: test notification sent to {target}"
TEST_FAILED = "{name}: test notification to {target} failed: {error}"
TEST_NOWHERE = (
    "{name}: no destination: set its email recipients or RESYNC_ALERT_EMAIL_TO, or add a "
    "webhook channel"
)


def _report_tests(admin_page, request: HttpRequest, name: str, sent: list[Notification]) -> None:
    if not sent:
        admin_page.message_user(request, TEST_NOWHERE.format(name=name), level=messages.WARNING)
    for row in sent:
        if row.status == Notification.Status.SENT:
            admin_page.message_user(request, TEST_SENT.format(name=name, target=row.target))
        else:
            text = TEST_FAILED.format(name=name, target=row.target, error=row.last_error)
            admin_page.message_user(request, text, level=messages.ERROR)


@admin.register(AlertRule)
class AlertRuleAdmin(RequiredPermissionAdmin, admin.ModelAdmin):
    """Edits go through alert_rule_save: validated, audited."""

    required_permission = ADMINISTER
    list_display = [
        "name",
        "enabled",
        "metric",
        "scope",
        "comparison",
        "threshold",
        "window_s",
        "severity",
        "last_value",
        "last_evaluated_at",
        "open_alert",
    ]
    list_filter = ["enabled", "metric", "severity"]
    search_fields = ["name", "note"]
    actions = ["send_test_notification"]
    readonly_fields = [
        "last_evaluated_at",
        "last_value",
        "last_detail",
        "last_error",
        "last_notified_at",
        "next_evaluation_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "enabled", "metric", "scope"]}),
        ("Condition", {"fields": ["comparison", "threshold", "window_s", "min_samples"]}),
        ("Notifications", {"fields": ["severity", "cooldown_s", "email_recipients", "note"]}),
        ("Last evaluation", {"fields": readonly_fields}),
    ]

    @admin.display(description="open alert", boolean=True)
    def open_alert(self, rule: AlertRule) -> bool:
        return rule.alerts.filter(state=Alert.State.OPEN).exists()

    def save_model(self, request, obj, form, change) -> None:
        alert_rule_save(rule=obj, actor=request.user, source="admin")

    def delete_model(self, request, obj) -> None:
        alert_rule_delete(rule=obj, actor=request.user, source="admin")

    def delete_queryset(self, request, queryset: QuerySet[AlertRule]) -> None:
        for rule in queryset:
            alert_rule_delete(rule=rule, actor=request.user, source="admin")

    @admin.action(description="Send a test notification")
    def send_test_notification(self, request, queryset: QuerySet[AlertRule]) -> None:
        for rule in queryset:
            _report_tests(self, request, rule.name, notification_test(rule=rule))


class WebhookChannelForm(forms.ModelForm):
    """The channel form; the secret is write-only (never rendered back)."""

    new_secret = forms.CharField(
        label="Secret",
        required=False,
        strip=False,
        min_length=WEBHOOK_SECRET_MIN_LENGTH,
        widget=forms.PasswordInput(render_value=False),
        help_text=(
            f"At least {WEBHOOK_SECRET_MIN_LENGTH} characters, shared with the receiver, which "
            "checks X-Resync-Signature with it. Stored encrypted; leave blank to keep the "
            "current one."
        ),
    )

    class Meta:
        model = WebhookChannel
        fields = ["name", "enabled", "url", "min_severity", "timeout_s"]
        field_classes = {"url": partial(forms.URLField, assume_scheme="https")}

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not cleaned.get("new_secret"):
            self.add_error("new_secret", SECRET_REQUIRED)
        return cleaned


@admin.register(WebhookChannel)
class WebhookChannelAdmin(RequiredPermissionAdmin, admin.ModelAdmin):
    required_permission = ADMINISTER
    form = WebhookChannelForm
    list_display = ["name", "enabled", "url", "min_severity", "timeout_s", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["send_test_notification"]
    fields = ["name", "enabled", "url", "new_secret", "min_severity", "timeout_s", *readonly_fields]

    def save_model(self, request, obj, form, change) -> None:
        secret = form.cleaned_data.get("new_secret") or None
        webhook_channel_save(channel=obj, actor=request.user, source="admin", secret=secret)

    def delete_model(self, request, obj) -> None:
        webhook_channel_delete(channel=obj, actor=request.user, source="admin")

    def delete_queryset(self, request, queryset: QuerySet[WebhookChannel]) -> None:
        for channel in queryset:
            webhook_channel_delete(channel=channel, actor=request.user, source="admin")

    @admin.action(description="Send a test notification")
    def send_test_notification(self, request, queryset: QuerySet[WebhookChannel]) -> None:
        for channel in queryset:
            _report_tests(self, request, channel.name, notification_test(channel=channel))


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    required_permission = VIEW_MONITORING
    list_display = [
        "opened_at",
        "rule_name",
        "severity",
        "state",
        "summary",
        "last_value",
        "resolved_at",
        "notified",
    ]
    list_filter = ["state", "severity", "metric"]
    search_fields = ["rule_name", "summary"]
    date_hierarchy = "opened_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    required_permission = VIEW_MONITORING
    list_display = [
        "created_at",
        "event",
        "channel",
        "target",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["status", "channel", "event"]
    search_fields = ["target", "last_error"]
    date_hierarchy = "created_at"
