"""Cache admin."""
