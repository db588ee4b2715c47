"""API key reads."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.core.errors import NotFoundError
from apps.security.api_keys.models import ApiKey

NO_SUCH_KEY = "No API key with prefix {prefix!r}."


def api_key_list() -> QuerySet[ApiKey]:
    """Every key with what its listing shows (owner, predecessor, successor)."""
    return ApiKey.objects.select_related("owner", "rotated_from", "replaced_by").order_by(
        "-created", "-id"
    )


def api_key_get(*, prefix: str) -> ApiKey:
    """The key with this prefix, or a 404."""
    try:
        return api_key_list().get(prefix=prefix)
    except ApiKey.DoesNotExist:
        raise NotFoundError(NO_SUCH_KEY.format(prefix=prefix)) from None


def api_key_state(api_key: ApiKey) -> str:
    """revoked, expired, rotating (replaced, still valid until its grace time) or active."""
    if api_key.revoked:
        return "revoked"
    if api_key.has_expired:
        return "expired"
    if getattr(api_key, "replaced_by", None) is not None:
        return "rotating"
    return "active"
