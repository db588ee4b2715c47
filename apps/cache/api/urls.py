"""Cache API routes."""

urlpatterns: list = []
