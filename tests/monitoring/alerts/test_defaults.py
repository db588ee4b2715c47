"""The rules a new installation starts with (migration monitoring/0005_alerts; README: Alerts)."""

from __future__ import annotations

import pytest

from apps.monitoring.alerts.models import AlertRule

pytestmark = pytest.mark.django_db


def test_the_default_rules_are_the_documented_ones():
    rules = {
        rule.name: (rule.enabled, rule.metric, rule.comparison, rule.threshold, rule.severity)
        for rule in AlertRule.objects.all()
    }

    assert rules == {
        "Slow responses": (True, "response_time_p95", ">", 1.0, "warning"),
        "Server errors": (True, "error_rate", ">", 5.0, "critical"),
        "Plan sync stale": (True, "sync_age", ">", 600.0, "critical"),
        "Plan sync failing": (True, "sync_failures", ">=", 3.0, "warning"),
        "HWA circuit breaker open": (True, "hwa_breaker_open", ">", 0.0, "warning"),
        "Connection pool exhausted": (True, "pool_exhaustions", ">", 0.0, "warning"),
        "Jobs in Error": (True, "jobs_in_error", ">", 0.0, "info"),
        "Security events": (True, "security_events", ">", 50.0, "warning"),
        "Cache hit rate low": (False, "cache_hit_rate", "<", 50.0, "info"),
        "Database pool queue": (False, "pool_waiting", ">", 5.0, "warning"),
    }


def test_the_seeds_response_time_rule_is_p95_over_five_minutes_above_one_second():
    rule = AlertRule.objects.get(name="Slow responses")

    assert (rule.window_s, rule.threshold, rule.severity) == (300, 1.0, "warning")
    rule.full_clean()  # every default passes the admin's validation
    for other in AlertRule.objects.all():
        other.full_clean()
