"""Security services."""
