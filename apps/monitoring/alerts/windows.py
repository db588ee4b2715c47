"""Rates and percentiles over a window, from cumulative counters sampled at each evaluation.

Prometheus' counters and histogram buckets only ever go up (until their process, or the
shared metrics directory, starts again from zero). A rule that looks back `window_s` keeps
samples of the counters it needs, [[unix time, {name: value}], ...] in its
`window_samples`, and measures the difference between now and the newest sample taken at
or before now - window: what happened within the window, as Prometheus' `increase()` does.

- While history builds up (a new rule, a restarted evaluator) the oldest sample younger
  than the window stands in: a shorter window, said in the measurement's detail.
- A baseline older than two windows (the evaluator was stopped) is not used: the window
  would silently become hours long.
- A counter that went down was reset (a restart): its current value is the increase.
- Samples are kept at least window / SAMPLES_PER_WINDOW apart, so a rule's JSON stays a
  few dozen entries long whatever its window and however often it is evaluated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SAMPLES_PER_WINDOW = 30

Sample = list  # [unix time, {counter: value}], as stored in JSON


@dataclass(frozen=True, slots=True)
class Change:
    """How much each counter went up, and over how many seconds."""

    delta: dict[str, float]
    seconds: float


def counters_delta(current: dict[str, float], base: dict[str, float]) -> dict[str, float]:
    """current - base per counter; all of current when any counter went down (a reset)."""
    if any(current.get(name, 0.0) < value for name, value in base.items()):
        return dict(current)
    return {name: value - base.get(name, 0.0) for name, value in current.items()}


def _baseline(earlier: list[Sample], *, now_ts: float, window_s: float) -> Sample | None:
    start = now_ts - window_s
    at_or_before = [sample for sample in earlier if sample[0] <= start]
    if at_or_before and at_or_before[-1][0] >= now_ts - 2 * window_s:
        return at_or_before[-1]
    within = [sample for sample in earlier if sample[0] > start]
    return within[0] if within else None


def window_change(
    samples: list[Sample], counters: dict[str, float], *, now_ts: float, window_s: float
) -> tuple[Change | None, list[Sample]]:
    """The counters' change over the window (None: no earlier sample yet), and the samples
    to keep (the current counters added when the last kept one is old enough)."""
    # A sample "from the future" (the clock moved back) can be no baseline.
    earlier = sorted((s for s in samples if s[0] < now_ts), key=lambda s: s[0])
    base = _baseline(earlier, now_ts=now_ts, window_s=window_s)
    kept = [s for s in earlier if base is not None and s[0] >= base[0]]
    if not kept or now_ts - kept[-1][0] >= window_s / SAMPLES_PER_WINDOW:
        kept.append([now_ts, counters])
    if base is None:
        return None, kept
    return Change(counters_delta(counters, base[1]), now_ts - base[0]), kept


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """The q-quantile of a histogram given as (upper bound, cumulative count) pairs, the last
    bound +Inf; None without observations. As Prometheus' histogram_quantile: linear
    interpolation inside the bucket the rank falls in (from 0 in the first bucket), and the
    highest finite bound when it falls in the +Inf bucket."""
    if not 0 < q <= 1:
        raise ValueError(f"a quantile is between 0 (excluded) and 1, not {q}")
    ordered = sorted(buckets)
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return None
    # Counts read from several processes at slightly different instants may dip: never down.
    monotonic, highest = [], 0.0
    for bound, count in ordered:
        highest = max(highest, count)
        monotonic.append((bound, highest))
    observations = monotonic[-1][1]
    if observations <= 0:
        return None
    rank = q * observations
    index = next(i for i, (_bound, count) in enumerate(monotonic) if count >= rank)
    if index == len(monotonic) - 1:
        return monotonic[-2][0]
    end, count = monotonic[index]
    if index == 0:
        return end if end <= 0 else end * (rank / count)
    start, below = monotonic[index - 1]
    return start + (end - start) * ((rank - below) / (count - below))
