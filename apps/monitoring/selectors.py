"""Monitoring selectors."""
