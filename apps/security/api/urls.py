"""Security API urls."""
