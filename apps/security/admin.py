"""Security admin."""

from apps.security.api_keys import admin as api_keys_admin  # noqa: F401  (registers)
