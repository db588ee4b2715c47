"""manage.py run_monitor (once, and its loop) and `sync_plan --loop --alerts`."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.monitoring.alerts import measures, services
from apps.monitoring.alerts.models import Alert, AlertRule
from apps.monitoring.management.commands import run_monitor
from tests.factories import JobFactory
from tests.monitoring.alerts.conftest import make_rule


@contextmanager
def _signal_handlers_restored() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _stop_after(passes: int, monkeypatch, module) -> list:
    """Make `module.alerts_evaluate` stop its loop (SIGTERM to this process) after `passes`."""
    real = services.alerts_evaluate
    summaries: list = []

    def evaluate_then_maybe_stop(**kwargs):
        summaries.append(real(**kwargs))
        if len(summaries) == passes:
            os.kill(os.getpid(), signal.SIGTERM)  # the loop's own handler ends it
        return summaries[-1]

    monkeypatch.setattr(module, "alerts_evaluate", evaluate_then_maybe_stop)
    return summaries


@pytest.mark.django_db
@pytest.mark.usefixtures("no_default_rules")
def test_once_evaluates_the_due_rules_and_prints_a_summary():
    make_rule()
    JobFactory(internal_state="ABEND")
    out, err = StringIO(), StringIO()

    call_command("run_monitor", "--once", stdout=out, stderr=err)

    assert out.getvalue().strip() == (
        "Alerts: 1 rules evaluated, 1 opened, 0 resolved; "
        "notifications: 0 sent, 0 to retry, 0 failed"
    )
    assert run_monitor.OWN_METRICS_ONLY in err.getvalue()  # no shared metrics directory here
    assert Alert.objects.get().state == "open"


@pytest.mark.django_db
@pytest.mark.usefixtures("no_default_rules")
def test_once_exits_non_zero_when_a_rule_cannot_be_evaluated(monkeypatch):
    monkeypatch.setitem(measures.MEASURES, "sync_age", _broken)
    make_rule(name="broken", metric="sync_age", threshold=1)

    with pytest.raises(CommandError, match="1 alert rules could not be evaluated"):
        call_command("run_monitor", "--once", stdout=StringIO(), stderr=StringIO())


def _broken(rule, context):
    raise RuntimeError("the source is gone")


def test_the_interval_must_be_positive():
    with pytest.raises(CommandError, match="--interval must be positive"):
        call_command("run_monitor", "--once", "--interval", "0")


@pytest.mark.django_db(transaction=True)  # the loop closes its connection between passes
def test_the_loop_reports_a_failing_rule_once_and_stops_on_sigterm(monkeypatch):
    AlertRule.objects.all().delete()
    monkeypatch.setitem(measures.MEASURES, "sync_age", _broken)
    make_rule(name="broken", metric="sync_age", threshold=1)
    passes = _stop_after(3, monkeypatch, run_monitor)
    out, err = StringIO(), StringIO()

    with _signal_handlers_restored():
        call_command("run_monitor", "--interval", "0.01", stdout=out, stderr=err)

    assert [len(summary.errors) for summary in passes] == [1, 1, 1]
    assert err.getvalue().count("broken: the source is gone") == 1
    assert out.getvalue().splitlines()[-1] == "Monitor stopped."


@pytest.mark.django_db(transaction=True)  # the loop closes its connection between runs
def test_the_sync_loop_evaluates_alerts_after_each_run_when_asked(hwa_connection, monkeypatch):
    AlertRule.objects.all().delete()
    make_rule(name="always", metric="sync_age", comparison=">=", threshold=0)
    _stop_after(1, monkeypatch, services)  # sync_plan imports it from services when it runs
    out = StringIO()

    with _signal_handlers_restored():
        call_command(
            "sync_plan", "--loop", "--alerts", "--interval", "0.01", stdout=out, stderr=StringIO()
        )

    assert "Alerts: 1 rules evaluated, 1 opened" in out.getvalue()
    assert Alert.objects.get().rule_name == "always"


def test_alerts_go_with_the_sync_loop_only():
    with pytest.raises(CommandError, match="--alerts goes with --loop"):
        call_command("sync_plan", "--alerts")
