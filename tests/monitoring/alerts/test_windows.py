"""Windows over cumulative counters, and the percentile of a histogram (as Prometheus' own)."""

from __future__ import annotations

import itertools
import math

import pytest

from apps.monitoring.alerts.windows import (
    SAMPLES_PER_WINDOW,
    counters_delta,
    histogram_quantile,
    window_change,
)

INF = math.inf

# --- histogram_quantile: Prometheus' histogram_quantile, bucket by bucket --------------------


def test_the_percentile_is_interpolated_inside_its_bucket():
    # 100 observations: 50 up to 0.1 s, 40 more up to 0.5 s, 10 more up to 1 s.
    buckets = [(0.1, 50), (0.5, 90), (1.0, 100), (INF, 100)]
    # rank 95 is the 5th of the 10 in (0.5, 1]: halfway.
    assert histogram_quantile(0.95, buckets) == pytest.approx(0.75)
    # rank 50 is the last of the first bucket: its upper bound.
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1)


def test_the_first_bucket_starts_at_zero():
    assert histogram_quantile(0.5, [(0.2, 10), (INF, 10)]) == pytest.approx(0.1)


def test_a_percentile_in_the_inf_bucket_is_the_highest_finite_bound():
    buckets = [(0.5, 10), (10.0, 50), (INF, 100)]
    assert histogram_quantile(0.95, buckets) == 10.0


def test_buckets_may_come_in_any_order_and_counts_never_go_down():
    # Processes read a moment apart can leave a bucket below the one before it.
    buckets = [(INF, 100), (1.0, 100), (0.1, 50), (0.5, 49)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1)


def test_no_observations_or_no_inf_bucket_is_no_value():
    assert histogram_quantile(0.95, [(0.1, 0), (INF, 0)]) is None
    assert histogram_quantile(0.95, [(0.1, 5), (1.0, 10)]) is None


def test_a_quantile_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="quantile"):
        histogram_quantile(1.5, [(0.1, 5), (INF, 5)])


# --- counters_delta ------------------------------------------------------------------------------


def test_the_delta_is_what_each_counter_gained():
    assert counters_delta({"a": 15, "b": 3, "new": 2}, {"a": 10, "b": 3}) == {
        "a": 5,
        "b": 0,
        "new": 2,
    }


def test_a_counter_that_went_down_was_reset_so_its_current_value_is_the_gain():
    assert counters_delta({"a": 4, "b": 9}, {"a": 10, "b": 3}) == {"a": 4, "b": 9}
    assert counters_delta({}, {"a": 10}) == {}


# --- window_change ------------------------------------------------------------------------------


def test_the_first_sample_has_no_baseline_and_is_kept():
    change, kept = window_change([], {"n": 5}, now_ts=1000, window_s=300)
    assert change is None
    assert kept == [[1000, {"n": 5}]]


def test_the_baseline_is_the_newest_sample_at_or_before_the_window_start():
    samples = [[600, {"n": 1}], [700, {"n": 10}], [800, {"n": 20}]]
    change, kept = window_change(samples, {"n": 50}, now_ts=1000, window_s=300)
    assert change.delta == {"n": 40}  # from t=700, the window's start
    assert change.seconds == 300
    assert [s[0] for s in kept] == [700, 800, 1000]  # older samples are dropped


def test_while_history_builds_up_the_oldest_sample_gives_a_shorter_window():
    change, _ = window_change([[900, {"n": 2}]], {"n": 7}, now_ts=1000, window_s=300)
    assert change.delta == {"n": 5}
    assert change.seconds == 100


def test_a_baseline_older_than_two_windows_is_not_used():
    # The evaluator was stopped for an hour: no 1-hour window passed off as 5 minutes.
    change, kept = window_change([[100, {"n": 1}]], {"n": 9}, now_ts=4000, window_s=300)
    assert change is None
    assert kept == [[4000, {"n": 9}]]


def test_samples_are_kept_a_fraction_of_the_window_apart():
    step = 300 / SAMPLES_PER_WINDOW
    samples: list = []
    for second in range(0, 600, 1):  # evaluated every second for ten minutes
        _, samples = window_change(samples, {"n": second}, now_ts=1000 + second, window_s=300)
    assert len(samples) <= SAMPLES_PER_WINDOW + 2
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(samples)]
    assert min(gaps) >= step


def test_a_sample_from_the_future_is_ignored():
    # The clock moved back: a later-stamped sample is no baseline.
    change, kept = window_change([[2000, {"n": 1}]], {"n": 3}, now_ts=1000, window_s=300)
    assert change is None
    assert kept == [[1000, {"n": 3}]]
