"""Cache API urls."""
