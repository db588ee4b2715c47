"""Admin of the assistant's model: one row, edited through the service (audited, live)."""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib import admin, messages

from apps.core.assistant.llm.client import LlmClient
from apps.core.assistant.llm.errors import LlmError
from apps.core.models import AssistantConfig
from apps.core.models.assistant import EDITABLE_FIELDS
from apps.core.services.assistant_config import (
    REDIRECT_NEEDS_KEY,
    assistant_config_update,
    client_settings,
)
from apps.security.crypto import SecretUnreadableError
from apps.security.permissions import ADMINISTER, RequiredPermissionAdmin

TEST_OK = "The model server answers at {url}; it offers: {models}"
TEST_MODEL_MISSING = (
    "The server at {url} answers but does not list model {model!r}; it offers: {models}"
)
TEST_FAILED = "Test failed: {detail}"


class AssistantConfigForm(forms.ModelForm):
    """The configuration form; the API key is write-only (never rendered back)."""

    new_api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted, never shown. Leave blank to keep the current one "
        "(local servers such as Ollama need none).",
    )
    clear_api_key = forms.BooleanField(
        label="Remove the API key", required=False, help_text="Send no Authorization header."
    )

    class Meta:
        model = AssistantConfig
        fields = list(EDITABLE_FIELDS)
        # A base URL typed without a scheme means HTTPS: the API key must not go in clear.
        field_classes = {"base_url": partial(forms.URLField, assume_scheme="https")}

    def clean(self):
        cleaned = super().clean()
        stored = AssistantConfig.objects.filter(pk=self.instance.pk).first()
        moved = stored is not None and cleaned.get("base_url", stored.base_url) != stored.base_url
        keeps_key = not cleaned.get("new_api_key") and not cleaned.get("clear_api_key")
        if moved and stored.api_key and keeps_key:
            self.add_error("new_api_key", REDIRECT_NEEDS_KEY)
        return cleaned

    def api_key(self) -> str | None:
        """The service's `api_key`: None keeps the stored key, "" removes it."""
        if self.cleaned_data.get("new_api_key"):
            return self.cleaned_data["new_api_key"]
        return "" if self.cleaned_data.get("clear_api_key") else None


@admin.register(AssistantConfig)
class AssistantConfigAdmin(RequiredPermissionAdmin, admin.ModelAdmin):
    """One row; saves go through assistant_config_update (validated, audited, applied live)."""

    required_permission = ADMINISTER
    form = AssistantConfigForm
    list_display = ["name", "enabled", "base_url", "model", "max_tokens", "version", "updated_at"]
    readonly_fields = ["version", "updated_at"]
    actions = ["test_model"]
    fieldsets = [
        (None, {"fields": ["enabled", "base_url", "model"]}),
        ("Credentials", {"fields": ["new_api_key", "clear_api_key"]}),
        (
            "Limits",
            {
                "fields": [
                    "connect_timeout",
                    "read_timeout",
                    "max_tokens",
                    "temperature",
                    "max_tool_calls",
                ]
            },
        ),
        ("Bookkeeping", {"fields": ["version", "updated_at"]}),
    ]

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not AssistantConfig.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        values = {field: form.cleaned_data[field] for field in EDITABLE_FIELDS}
        saved = assistant_config_update(
            actor=request.user, source="admin", values=values, api_key=form.api_key()
        )
        obj.pk = saved.pk  # the admin's redirect after "add" needs it

    @admin.action(description="Test the model server (GET /models)", permissions=["change"])
    def test_model(self, request, queryset) -> None:
        for config in queryset:  # saved rows: the key goes only to the saved URL
            self._test_one(request, config)

    def _test_one(self, request, config: AssistantConfig) -> None:
        try:
            with LlmClient(client_settings(config, max_retries=0)) as client:
                offered = client.models()
        except (LlmError, SecretUnreadableError) as exc:
            self.message_user(request, TEST_FAILED.format(detail=exc), level=messages.ERROR)
            return
        names = ", ".join(offered) or "none"
        if config.model in offered:
            self.message_user(request, TEST_OK.format(url=config.base_url, models=names))
            return
        detail = TEST_MODEL_MISSING.format(url=config.base_url, model=config.model, models=names)
        self.message_user(request, detail, level=messages.WARNING)
