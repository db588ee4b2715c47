from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Health checks, metrics, alerts and the audit log."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.monitoring"
    label = "monitoring"

    def ready(self) -> None:
        from apps.core.assistant.llm import client as llm
        from apps.core.hwa.client import call_observers
        from apps.monitoring.alerts import checks  # noqa: F401  (checks self-register)
        from apps.monitoring.metrics.definitions import (
            hwa_call_observed,
            llm_call_observed,
            llm_usage_observed,
        )

        # Every HWA exchange is timed and its failures counted (the client knows no Prometheus).
        if hwa_call_observed not in call_observers:
            call_observers.append(hwa_call_observed)
        # The same for the assistant's model, and the tokens each answer used.
        if llm_call_observed not in llm.call_observers:
            llm.call_observers.append(llm_call_observed)
        if llm_usage_observed not in llm.usage_observers:
            llm.usage_observers.append(llm_usage_observed)
