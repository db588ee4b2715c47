"""Cache models."""
