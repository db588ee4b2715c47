from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Health checks, metrics, alerts and the audit log."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.monitoring"
    label = "monitoring"
