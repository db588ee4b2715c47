"""Admin for connection pools: edit a pool live, or apply a preset after seeing its diff."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from apps.core import presets
from apps.core.errors import ApplicationError
from apps.core.models import ConnectionPoolConfig
from apps.core.models.pools import EDITABLE_FIELDS
from apps.core.pools.defaults import POOL_NAMES
from apps.core.services.pools import pool_config_update

PRESET_APPLIED = "Applied preset {name!r}: {count} change(s); every process uses them within 1 s."
PRESET_UNCHANGED = "Already at preset {name!r}; nothing changed."


@admin.register(ConnectionPoolConfig)
class ConnectionPoolConfigAdmin(admin.ModelAdmin):
    """Edits go through pool_config_update: validated, audited, applied live."""

    list_display = ["name", *EDITABLE_FIELDS, "updated_at"]
    readonly_fields = ["updated_at"]
    actions = ["apply_current_preset", "apply_recommended_preset"]

    def get_readonly_fields(self, request, obj=None):
        return ["name", "updated_at"] if obj else ["updated_at"]

    def has_add_permission(self, request) -> bool:
        # Rows come from a migration; add only a pool whose row went missing.
        existing = set(ConnectionPoolConfig.objects.values_list("name", flat=True))
        return super().has_add_permission(request) and not set(POOL_NAMES) <= existing

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        # The form already ran the model's clean() (the shared validation).
        values = {field: form.cleaned_data[field] for field in EDITABLE_FIELDS}
        pool_config_update(name=obj.name, values=values, actor=request.user, source="admin")

    @admin.action(description="Apply preset 'current' to every pool (shows the diff first)")
    def apply_current_preset(self, request, queryset):
        return self._preset(request, "current")

    @admin.action(description="Apply preset 'recommended' to every pool (shows the diff first)")
    def apply_recommended_preset(self, request, queryset):
        return self._preset(request, "recommended")

    def _preset(self, request, name: str):
        if not self.has_change_permission(request):
            raise PermissionDenied
        changes = presets.preset_diff(name)
        if not changes:
            self.message_user(request, PRESET_UNCHANGED.format(name=name))
            return None
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": f"Apply preset {name!r}?",
                "preset": name,
                "changes": changes,
                "action": request.POST.get("action"),
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                "opts": self.model._meta,
            }
            return TemplateResponse(request, "admin/core/pool_preset_confirm.html", context)
        try:
            applied = presets.preset_apply(name, actor=request.user, source="admin")
        except ApplicationError as exc:
            self.message_user(request, exc.detail, level=messages.ERROR)
            return None
        self.message_user(request, PRESET_APPLIED.format(name=name, count=len(applied)))
        return HttpResponseRedirect(request.get_full_path())
