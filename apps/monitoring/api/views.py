"""Monitoring API views."""
