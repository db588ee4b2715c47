"""Monitoring filters."""
