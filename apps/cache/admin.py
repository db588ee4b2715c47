"""Cache admin: edit the live cache settings, and apply a preset after seeing its diff."""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from apps.cache import services
from apps.cache.models import FIELDS, CacheConfig


@admin.register(CacheConfig)
class CacheConfigAdmin(admin.ModelAdmin):
    """One row; saves go through the service (validated, audited, applied everywhere)."""

    list_display = ["name", *FIELDS, "updated_at"]
    fields = list(FIELDS)
    actions = ["apply_current_preset", "apply_recommended_preset"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        values = {field: form.cleaned_data[field] for field in FIELDS}
        services.cache_config_update(actor=request.user, source="admin", values=values)

    @admin.action(description="Apply preset 'current' (shows the changes first)")
    def apply_current_preset(self, request, queryset):
        return self._apply_preset(request, "current")

    @admin.action(description="Apply preset 'recommended' (shows the changes first)")
    def apply_recommended_preset(self, request, queryset):
        return self._apply_preset(request, "recommended")

    def _apply_preset(self, request, name: str):
        changes = services.cache_preset_diff(name)
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": f"Apply preset {name!r} to the cache",
                "preset": name,
                "changes": changes,
                "action": request.POST.get("action"),
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                "opts": self.model._meta,
            }
            return TemplateResponse(request, "admin/resync_cache/preset_confirm.html", context)
        applied = services.cache_preset_apply(name, actor=request.user, source="admin")
        if applied:
            self.message_user(request, f"Preset {name!r} applied: {len(applied)} change(s).")
        else:
            self.message_user(request, f"Already at preset {name!r}.", messages.INFO)
        return None
