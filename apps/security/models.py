"""Security models."""

from apps.security.api_keys.models import ApiKey  # noqa: F401  (registers the model)
