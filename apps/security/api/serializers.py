"""Security API serializers."""
