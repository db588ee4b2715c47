"""Security filters."""
