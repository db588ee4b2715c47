"""Fixtures for monitoring: security events' clock, the simulator and its HWA connection."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from apps.monitoring import recorder as recording
from tests.core.sync_fixtures import hwa, hwa_connection, sim  # noqa: F401


@pytest.fixture
def frozen_clock(monkeypatch) -> datetime:
    """Every security event is recorded at one instant: no test straddles a minute."""
    now = timezone.now().replace(second=30, microsecond=0)
    monkeypatch.setattr(recording, "clock", lambda: now)
    return now
