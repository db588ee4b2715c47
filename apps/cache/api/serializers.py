"""Cache API serializers."""
