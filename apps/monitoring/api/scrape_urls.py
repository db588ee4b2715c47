"""The Prometheus scrape at /metrics: outside /api/, where Prometheus looks by default."""

from django.urls import path

from apps.monitoring.api import views

urlpatterns = [
    path("metrics", views.MetricsView.as_view(), name="metrics"),
]
