"""Security selectors."""
