"""Security API views."""
