"""Admin of API keys: issue (the key is shown once), list, rotate and revoke.

Built on djangorestframework-api-key's admin; writes go through the services, so the admin
is audited like the API and the `api_key` command.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from apps.core.errors import ApplicationError
from apps.security.api_keys.models import ApiKey
from apps.security.api_keys.selectors import api_key_state
from apps.security.api_keys.services import (
    EXPIRY_IN_PAST,
    api_key_issue,
    api_key_revoke,
    api_key_rotate,
)
from apps.security.permissions import ADMINISTER, RequiredPermissionAdmin
from apps.security.scopes import SCOPES

SHOWN_ONCE = "The API key {name!r} ({prefix}) is: {key} - store it now, it will not be shown again."
ROTATED = "{old} rotated: it stays valid until {until:%Y-%m-%d %H:%M %Z}. " + SHOWN_ONCE
REVOKED = "Revoked {count} key(s)."


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in SCOPES], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiKey
        fields = ["name", "owner", "scopes", "expiry_date"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        owners = self.fields["owner"].queryset
        self.fields["owner"].queryset = owners.filter(is_active=True)

    def clean_expiry_date(self):
        expires_at = self.cleaned_data.get("expiry_date")
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError(EXPIRY_IN_PAST)
        return expires_at


@admin.register(ApiKey)
class ApiKeyAdmin(RequiredPermissionAdmin, APIKeyModelAdmin):
    required_permission = ADMINISTER
    list_display = [
        "prefix",
        "name",
        "owner",
        "scopes",
        "state",
        "created",
        "expiry_date",
        "last_used_at",
    ]
    list_filter = ["revoked", "created"]
    search_fields = ["name", "prefix", "owner__username"]
    list_select_related = ["owner", "replaced_by"]
    actions = ["rotate_keys", "revoke_keys"]
    readonly_fields = [
        "prefix",
        "name",
        "owner",
        "scopes",
        "created",
        "expiry_date",
        "last_used_at",
        "revoked",
        "revoked_at",
        "rotated_from",
    ]

    @admin.display(description="State")
    def state(self, api_key: ApiKey) -> str:
        return api_key_state(api_key)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return ApiKeyCreateForm.Meta.fields if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a key is never edited: rotate or revoke it

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # kept for the audit trail; revoke instead

    def save_model(self, request, obj: ApiKey, form, change) -> None:
        key = api_key_issue(api_key=obj, actor=request.user, source="admin")
        self.message_user(
            request, SHOWN_ONCE.format(name=obj.name, prefix=obj.prefix, key=key), messages.WARNING
        )

    @admin.action(description="Rotate (old key valid one more hour)")
    def rotate_keys(self, request, queryset) -> None:
        for old in queryset:
            try:
                new, key = api_key_rotate(api_key=old, actor=request.user, source="admin")
            except ApplicationError as exc:
                self.message_user(request, f"{old.prefix}: {exc.detail}", messages.ERROR)
                continue
            old.refresh_from_db()
            text = ROTATED.format(
                old=old.prefix, until=old.expiry_date, name=new.name, prefix=new.prefix, key=key
            )
            self.message_user(request, text, messages.WARNING)

    @admin.action(description="Revoke (at once, cannot be undone)")
    def revoke_keys(self, request, queryset) -> None:
        for api_key in queryset:
            api_key_revoke(api_key=api_key, actor=request.user, source="admin")
        self.message_user(request, REVOKED.format(count=len(queryset)))


# Only our model is used: the library's own key table stays empty and out of the admin.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)
