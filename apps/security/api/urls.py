"""Security API routes."""

urlpatterns: list = []
