"""Cache selectors."""
