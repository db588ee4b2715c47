"""Core admin pages, one module per area."""

from apps.core.admin import assistant_config, hwa, plan, pools  # noqa: F401
