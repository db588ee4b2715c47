"""A base for admin pages whose rows nobody edits by hand (mirrored data, audit trail)."""

from __future__ import annotations

from django.contrib import admin

from apps.security.permissions import RequiredPermissionAdmin


class ReadOnlyAdmin(RequiredPermissionAdmin, admin.ModelAdmin):
    """Browse, filter and search (with `required_permission`); never add, change or delete."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
