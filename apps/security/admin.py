"""Security admin."""
