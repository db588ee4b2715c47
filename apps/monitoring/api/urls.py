"""Monitoring API routes (under /api/v1/)."""

from django.urls import path

from apps.monitoring.api import alerts, views

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("security-events/", views.SecurityEventListView.as_view(), name="security-event-list"),
    path("security/csp-report/", views.CspReportView.as_view(), name="csp-report"),
    path("audit/", views.AuditEventListView.as_view(), name="audit-event-list"),
    path("health/live/", views.LivenessView.as_view(), name="health-live"),
    path("health/ready/", views.ReadinessView.as_view(), name="health-ready"),
    path("alerts/", alerts.AlertListView.as_view(), name="alert-list"),
]
