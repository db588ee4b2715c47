"""The circuit breaker on its own, with a hand-driven clock."""

from __future__ import annotations

import pytest

from apps.core.breaker import BreakerState, CircuitBreaker
from tests.core.hwa.conftest import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def fail(breaker: CircuitBreaker, times: int, error: str = "boom") -> None:
    for _ in range(times):
        assert breaker.try_acquire()
        breaker.record_failure(error)


def test_it_opens_after_threshold_consecutive_failures(clock: FakeClock) -> None:
    breaker = CircuitBreaker(threshold=3, cooloff=10, clock=clock)
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    fail(breaker, 1, "last one")
    snap = breaker.snapshot()
    assert snap.state is BreakerState.OPEN
    assert (snap.consecutive_failures, snap.total_failures, snap.last_error) == (3, 3, "last one")
    assert snap.opened_at is not None
    assert snap.opened_at.tzinfo is not None
    assert not breaker.try_acquire()


def test_a_success_resets_the_consecutive_count(clock: FakeClock) -> None:
    breaker = CircuitBreaker(threshold=2, cooloff=10, clock=clock)
    fail(breaker, 1)
    breaker.record_success()
    fail(breaker, 1)
    assert breaker.state is BreakerState.CLOSED


def test_half_open_lets_exactly_one_trial_through_and_success_closes(clock: FakeClock) -> None:
    breaker = CircuitBreaker(threshold=1, cooloff=10, clock=clock)
    fail(breaker, 1)
    clock.now += 9.5
    assert not breaker.try_acquire()
    assert breaker.retry_after() == pytest.approx(0.5)
    clock.now += 0.5
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.try_acquire()
    assert not breaker.try_acquire()  # a second caller waits for the trial's outcome
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.try_acquire()


def test_a_failed_trial_reopens_for_a_full_cooloff(clock: FakeClock) -> None:
    breaker = CircuitBreaker(threshold=5, cooloff=10, clock=clock)
    fail(breaker, 5)
    clock.now += 10
    assert breaker.try_acquire()
    breaker.record_failure("still down")
    assert breaker.state is BreakerState.OPEN
    assert breaker.retry_after() == pytest.approx(10)


def test_configure_changes_threshold_without_losing_counts(clock: FakeClock) -> None:
    breaker = CircuitBreaker(threshold=5, cooloff=10, clock=clock)
    fail(breaker, 2)
    breaker.configure(threshold=3, cooloff=1)
    fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN


def test_it_rejects_a_threshold_below_one() -> None:
    with pytest.raises(ValueError, match="threshold"):
        CircuitBreaker(threshold=0)
