"""Security models: Resync's own permissions and the JWT refresh-token families."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class SecurityPermission(models.Model):
    """Holds Resync's permissions (`security.*`); no table, only the permission rows.

    Roles (groups) are made of these and `core.act_on_job`; apps/security/permissions.py
    names each one and says which views need it.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_plan", "Can read the plan (jobs, job streams, workstations)"),
            (
                "administer",
                "Can administer Resync: pools, cache, HWA connection, cache clear, users, API keys",
            ),
            (
                "view_monitoring",
                "Can read monitoring: audit log, security events, statistics, health details",
            ),
            ("test_hwa_connection", "Can run 'Test connection' against the saved HWA connection"),
        ]

    def __str__(self) -> str:
        return "Resync permissions"


def _new_family_id() -> str:
    return uuid.uuid4().hex


class TokenFamily(models.Model):
    """The refresh tokens descended from one login; revoking it ends them all.

    Every refresh token carries its family's id (the `family` claim) across rotations. A
    rotated token presented again means someone kept a copy: the family is revoked, so
    neither the thief nor the owner can refresh with it any more.
    """

    class Reason(models.TextChoices):
        REUSE = "reuse", "a rotated refresh token was used again"
        LOGOUT = "logout", "logged out"
        ADMIN = "admin", "revoked by an administrator"

    id = models.CharField(primary_key=True, max_length=32, default=_new_family_id, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_families"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    refreshed_at = models.DateTimeField(
        default=timezone.now, db_index=True, help_text="Last sign-in or refresh."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)

    class Meta:
        verbose_name_plural = "token families"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        state = f"revoked ({self.revoked_reason})" if self.revoked_at else "active"
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M} {state}"


from apps.security.api_keys.models import ApiKey  # noqa: E402, F401  (registers the model)
from apps.security.cors.models import CorsOrigin  # noqa: E402, F401  (registers the model)
