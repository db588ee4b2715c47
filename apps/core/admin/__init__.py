"""Core admin pages, one module per area."""

from apps.core.admin import plan, pools  # noqa: F401
