"""Monitoring API routes."""

from django.urls import path

from apps.monitoring.api import views

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("audit/", views.AuditEventListView.as_view(), name="audit-event-list"),
]
