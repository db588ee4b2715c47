"""Admin actions that apply a configuration preset after showing its diff.

Pools and the cache share them: each admin names the preset targets it owns (a prefix of
the PresetTarget names registered in apps/core/presets.py) and a confirmation title.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from apps.core import presets
from apps.core.errors import ApplicationError

PRESET_APPLIED = "Applied preset {name!r}: {count} change(s); every process uses them within 1 s."
PRESET_UNCHANGED = "Already at preset {name!r}; nothing changed."


class PresetActionsMixin:
    """`apply_current_preset` and `apply_recommended_preset`, with a confirmation page."""

    preset_prefix = ""  # e.g. "pool:" or "cache:"
    preset_title = "Apply preset {name!r}?"
    actions = ["apply_current_preset", "apply_recommended_preset"]

    @admin.action(description="Apply preset 'current' (shows the changes first)")
    def apply_current_preset(self, request, queryset):
        return self._apply_preset(request, "current")

    @admin.action(description="Apply preset 'recommended' (shows the changes first)")
    def apply_recommended_preset(self, request, queryset):
        return self._apply_preset(request, "recommended")

    def _apply_preset(self, request, name: str):
        if not self.has_change_permission(request):
            raise PermissionDenied
        changes = presets.preset_diff(name, prefix=self.preset_prefix)
        if not changes:
            self.message_user(request, PRESET_UNCHANGED.format(name=name))
            return None
        if request.POST.get("confirm") != "yes":
            return self._confirmation(request, name, changes)
        try:
            applied = presets.preset_apply(
                name, actor=request.user, source="admin", prefix=self.preset_prefix
            )
        except ApplicationError as exc:
            self.message_user(request, exc.detail, level=messages.ERROR)
            return None
        self.message_user(request, PRESET_APPLIED.format(name=name, count=len(applied)))
        return None

    def _confirmation(self, request, name: str, changes) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": self.preset_title.format(name=name),
            "preset": name,
            "changes": changes,
            "action": request.POST.get("action"),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/preset_confirm.html", context)
