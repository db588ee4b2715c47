"""Cache filters."""
