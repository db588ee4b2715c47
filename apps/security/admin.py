"""Security admin: users and roles (audited), sign-ins (token families), simplejwt's tokens.

All of it needs `security.administer`. An administrator who is not a superuser can neither
make anyone a superuser nor change a superuser's account, so the role cannot raise itself
above itself; nobody sees a stored refresh token's text.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import Count
from rest_framework_simplejwt.token_blacklist import admin as blacklist_admin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.core.admin.readonly import ReadOnlyAdmin
from apps.monitoring.services import audit_record
from apps.security.models import TokenFamily
from apps.security.permissions import ADMINISTER, RequiredPermissionAdmin
from apps.security.selectors import group_access_snapshot, user_access_snapshot
from apps.security.services import access_change_record, token_family_revoke

User = get_user_model()
FAMILIES_REVOKED = "Revoked {count} sign-in(s); their tokens stop working within seconds."


def _permission_label(permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}: {permission.name}"


class _AccessAuditMixin:
    """Audits what an admin save or delete did to access (before and after).

    The "before" is read from the database in save_model, the "after" once the groups and
    permissions (saved after the row, in save_related) are in place.
    """

    audit_entity = ""  # "user" or "role"

    def access_snapshot(self, obj) -> dict[str, Any]:
        raise NotImplementedError

    def audit_target(self, obj) -> str:
        raise NotImplementedError

    def save_model(self, request, obj, form, change) -> None:
        stored = type(obj).objects.filter(pk=obj.pk).first() if change else None
        request._access_before = self.access_snapshot(stored) if stored else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        before = getattr(request, "_access_before", None)
        access_change_record(
            actor=request.user,
            source="admin",
            action=f"{self.audit_entity}.{'update' if before else 'create'}",
            target=self.audit_target(form.instance),
            before=before,
            after=self.access_snapshot(form.instance),
        )

    def delete_model(self, request, obj) -> None:
        self._audit_delete(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self._audit_delete(request, obj)
        super().delete_queryset(request, queryset)

    def _audit_delete(self, request, obj) -> None:
        access_change_record(
            actor=request.user,
            source="admin",
            action=f"{self.audit_entity}.delete",
            target=self.audit_target(obj),
            before=self.access_snapshot(obj),
            after=None,
        )


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(_AccessAuditMixin, RequiredPermissionAdmin, DjangoUserAdmin):
    required_permission = ADMINISTER
    audit_entity = "user"
    list_display = ["username", "email", "is_active", "is_staff", "is_superuser", "roles"]

    def access_snapshot(self, obj) -> dict[str, Any]:
        return user_access_snapshot(obj)

    def audit_target(self, obj) -> str:
        return f"user:{obj.get_username()}"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="roles")
    def roles(self, obj) -> str:
        return ", ".join(sorted(group.name for group in obj.groups.all()))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("is_superuser")
        return fields

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self._may_touch(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_touch(request, obj)

    @staticmethod
    def _may_touch(request, obj) -> bool:
        return obj is None or not obj.is_superuser or request.user.is_superuser

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "user_permissions":
            formfield.label_from_instance = _permission_label
        return formfield

    def user_change_password(self, request, id, form_url=""):
        before = User.objects.filter(pk=unquote(id)).values_list("password", flat=True).first()
        response = super().user_change_password(request, id, form_url)
        user = User.objects.filter(pk=unquote(id)).first()
        if user is not None and before is not None and user.password != before:
            audit_record(
                actor=request.user,
                source="admin",
                action="user.password_change",
                target=self.audit_target(user),
                detail="every token of the user is revoked",
            )
        return response


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(_AccessAuditMixin, RequiredPermissionAdmin, DjangoGroupAdmin):
    """Roles are groups: their permissions listed by name, and how many users hold each."""

    required_permission = ADMINISTER
    audit_entity = "role"
    list_display = ["name", "permission_list", "members"]

    def access_snapshot(self, obj) -> dict[str, Any]:
        return group_access_snapshot(obj)

    def audit_target(self, obj) -> str:
        return f"role:{obj.name}"

    def get_queryset(self, request):
        queryset = super().get_queryset(request).annotate(member_count=Count("user", distinct=True))
        return queryset.prefetch_related("permissions__content_type")

    @admin.display(description="permissions")
    def permission_list(self, obj) -> str:
        names = (f"{p.content_type.app_label}.{p.codename}" for p in obj.permissions.all())
        return ", ".join(sorted(names))

    @admin.display(description="users", ordering="member_count")
    def members(self, obj) -> int:
        return obj.member_count

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "permissions":
            formfield.label_from_instance = _permission_label
        return formfield


@admin.register(TokenFamily)
class TokenFamilyAdmin(ReadOnlyAdmin):
    """Sign-ins: each is the chain of refresh tokens of one login."""

    required_permission = ADMINISTER
    list_display = ["user", "created_at", "revoked_at", "revoked_reason"]
    list_filter = ["revoked_reason"]
    search_fields = ["user__username", "id"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    actions = ["revoke"]

    def has_revoke_permission(self, request) -> bool:
        return self._permitted(request)

    @admin.action(description="Revoke the selected sign-ins", permissions=["revoke"])
    def revoke(self, request, queryset) -> None:
        count = 0
        for family in queryset.filter(revoked_at__isnull=True).select_related("user"):
            if token_family_revoke(family_id=family.pk, reason=TokenFamily.Reason.ADMIN):
                count += 1
                audit_record(
                    actor=request.user,
                    source="admin",
                    action="auth.family_revoke",
                    target=f"user:{family.user.get_username()}",
                    detail=f"token family {family.pk} revoked",
                )
        self.message_user(request, FAMILIES_REVOKED.format(count=count))


# simplejwt's own token pages: administrators only, and never the stored token's text
# (a refresh token in a page is a credential anyone who can read the page could use).
admin.site.unregister(OutstandingToken)
admin.site.unregister(BlacklistedToken)


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(RequiredPermissionAdmin, blacklist_admin.OutstandingTokenAdmin):
    required_permission = ADMINISTER
    fields = ["jti", "user", "created_at", "expires_at"]

    def get_readonly_fields(self, *args, **kwargs) -> list[str]:
        return list(self.fields)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BlacklistedToken)
class BlacklistedTokenAdmin(RequiredPermissionAdmin, blacklist_admin.BlacklistedTokenAdmin):
    required_permission = ADMINISTER
    fields = ["token", "blacklisted_at"]
    readonly_fields = ["token", "blacklisted_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


from apps.security.api_keys import admin as api_keys_admin  # noqa: E402, F401  (registers)
from apps.security.cors import admin as cors_admin  # noqa: E402, F401  (registers)
