"""Cache API views."""
