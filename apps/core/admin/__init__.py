"""Core admin pages, one module per area."""

from apps.core.admin import hwa, plan, pools  # noqa: F401
