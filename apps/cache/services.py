"""Cache services."""
