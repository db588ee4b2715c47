"""Fixtures: the bundled model simulator over HTTP, configured as the assistant's model."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from django.utils import timezone

from apps.core.assistant.llm.simulator import LlmSimulator
from apps.core.services.assistant_config import assistant_config_update, client_close
from tests.factories import JobFactory, JobStreamFactory, WorkstationFactory


@pytest.fixture
def llm(db) -> Iterator[LlmSimulator]:
    """The simulator, and the assistant configured to ask it."""
    with LlmSimulator() as sim:
        assistant_config_update(
            actor=None, source="system", values={"base_url": sim.base_url, "model": sim.model}
        )
        client_close()  # the next call builds a client for this configuration
        yield sim
        client_close()


def today_at(hour: int, minute: int = 0) -> datetime:
    midnight = datetime.combine(timezone.localdate(), datetime.min.time())
    return timezone.make_aware(midnight).replace(hour=hour, minute=minute)


@pytest.fixture
def plan(db) -> dict:
    """A small mirror: two jobs abended on FTA006 (one before 02:00), one held, one done."""
    fta = WorkstationFactory(name="FTA006", type="FTA")
    payroll = JobStreamFactory(name="PAYROLL", workstation=fta, scheduled_time=today_at(1))
    return {
        "early": JobFactory(
            name="PAY_EXTRACT", stream=payroll, internal_state="ABEND", start=today_at(1)
        ),
        "late": JobFactory(
            name="PAY_RUN#01", stream=payroll, internal_state="ABEND", start=today_at(3)
        ),
        "held": JobFactory(name="PAY_PRINT", stream=payroll, internal_state="HOLD", start=None),
        "done": JobFactory(
            name="PAY_DONE", stream=payroll, internal_state="SUCC", start=today_at(2)
        ),
        "fta": fta,
        "payroll": payroll,
    }
