from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Health checks, metrics, alerts and the audit log."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.monitoring"
    label = "monitoring"

    def ready(self) -> None:
        from apps.core.hwa.client import call_observers
        from apps.monitoring.alerts import checks  # noqa: F401  (checks self-register)
        from apps.monitoring.metrics.definitions import hwa_call_observed

        # Every HWA exchange is timed and its failures counted (the client knows no Prometheus).
        if hwa_call_observed not in call_observers:
            call_observers.append(hwa_call_observed)
