"""Monitoring API serializers."""
