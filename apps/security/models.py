"""Security models."""
