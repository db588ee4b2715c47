"""Admin of CORS origins: every save, delete and bulk action goes through the services, so it
is validated, audited and applied in every process like the API."""

from __future__ import annotations

from django.contrib import admin, messages

from apps.security.cors.models import CorsOrigin
from apps.security.cors.services import (
    FIELDS,
    cors_origin_create,
    cors_origin_delete,
    cors_origin_update,
)
from apps.security.permissions import ADMINISTER, RequiredPermissionAdmin

SWITCHED = "{verb} {count} origin(s); every process applies it within a second."


@admin.register(CorsOrigin)
class CorsOriginAdmin(RequiredPermissionAdmin, admin.ModelAdmin):
    required_permission = ADMINISTER
    list_display = ["origin", "enabled", "note", "updated_at"]
    list_filter = ["enabled"]
    search_fields = ["origin", "note"]
    fields = list(FIELDS)
    actions = ["enable_selected", "disable_selected"]

    def save_model(self, request, obj, form, change) -> None:
        values = {field: getattr(obj, field) for field in FIELDS}
        if change:
            cors_origin_update(cors_origin=obj, values=values, actor=request.user, source="admin")
        else:
            obj.pk = cors_origin_create(values=values, actor=request.user, source="admin").pk

    def delete_model(self, request, obj) -> None:
        cors_origin_delete(cors_origin=obj, actor=request.user, source="admin")

    def delete_queryset(self, request, queryset) -> None:
        for row in queryset:
            cors_origin_delete(cors_origin=row, actor=request.user, source="admin")

    def _switch(self, request, queryset, *, enabled: bool) -> None:
        for row in queryset:
            values = {"enabled": enabled}
            cors_origin_update(cors_origin=row, values=values, actor=request.user, source="admin")
        verb = "Enabled" if enabled else "Disabled"
        self.message_user(request, SWITCHED.format(verb=verb, count=len(queryset)), messages.INFO)

    @admin.action(description="Enable the selected origins", permissions=["change"])
    def enable_selected(self, request, queryset) -> None:
        self._switch(request, queryset, enabled=True)

    @admin.action(description="Disable the selected origins", permissions=["change"])
    def disable_selected(self, request, queryset) -> None:
        self._switch(request, queryset, enabled=False)
