"""Monitoring admin."""
