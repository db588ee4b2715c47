"""Monitoring API urls."""
