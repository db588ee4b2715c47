"""Monitoring services."""
