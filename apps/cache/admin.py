"""Cache admin: edit the live cache settings, and apply a preset after seeing its diff."""

from __future__ import annotations

from django.contrib import admin

from apps.cache import services
from apps.cache.models import FIELDS, CacheConfig
from apps.core.admin.presets import PresetActionsMixin
from apps.security.permissions import ADMINISTER, RequiredPermissionAdmin


@admin.register(CacheConfig)
class CacheConfigAdmin(RequiredPermissionAdmin, PresetActionsMixin, admin.ModelAdmin):
    """One row; saves go through the service (validated, audited, applied everywhere)."""

    required_permission = ADMINISTER
    list_display = ["name", *FIELDS, "updated_at"]
    fields = list(FIELDS)
    preset_prefix = "cache:"
    preset_title = "Apply preset {name!r} to the cache?"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        values = {field: form.cleaned_data[field] for field in FIELDS}
        services.cache_config_update(actor=request.user, source="admin", values=values)
