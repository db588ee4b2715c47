"""Admin for connection pools: edit a pool live, or apply a preset after seeing its diff."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin.presets import PresetActionsMixin
from apps.core.models import ConnectionPoolConfig
from apps.core.models.pools import EDITABLE_FIELDS
from apps.core.pools.defaults import POOL_NAMES
from apps.core.services.pools import pool_config_update
from apps.security.permissions import ADMINISTER, RequiredPermissionAdmin


@admin.register(ConnectionPoolConfig)
class ConnectionPoolConfigAdmin(RequiredPermissionAdmin, PresetActionsMixin, admin.ModelAdmin):
    """Edits go through pool_config_update: validated, audited, applied live."""

    required_permission = ADMINISTER
    list_display = ["name", *EDITABLE_FIELDS, "updated_at"]
    readonly_fields = ["updated_at"]
    preset_prefix = "pool:"
    preset_title = "Apply preset {name!r} to every connection pool?"

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
