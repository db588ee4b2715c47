"""One small function per metric kind: measure(rule, context) -> Measurement.

Where the figures come from:
- Requests, cache, pools, HWA breaker: the Prometheus metrics, through
  `apps.monitoring.metrics.collect()`. With PROMETHEUS_MULTIPROC_DIR shared with the server
  (gunicorn.conf.py, run_embedded) that is every process's figures; without it, only the
  evaluating process's own (see README: Alerts).
- Counters (requests, cache lookups, pool exhaustions) are cumulative: windowed measures
  sample them at each evaluation and measure the increase over the rule's window
  (windows.py).
- Plan sync and jobs: the core selectors. Security events: the monitoring selector
  `security_event_count`, imported when first needed.

A measurement without a value is "no data": the rule's alert neither opens nor resolves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client.core import Metric

from apps.core.errors import ApplicationError
from apps.core.selectors.plan import job_counts_by_status
from apps.core.selectors.sync import plan_freshness, sync_failures_consecutive
from apps.core.services.hwa import hwa_connection_get
from apps.core.states import JobStatus
from apps.monitoring import metrics
from apps.monitoring.alerts.models import AlertRule
from apps.monitoring.alerts.models import Metric as Kind
from apps.monitoring.alerts.windows import Change, histogram_quantile, window_change

P95 = 0.95
NO_BASELINE = "no earlier sample yet: the window starts with this evaluation"
TOO_FEW = "{count:.0f} {what} in the last {seconds:.0f} s, fewer than the {minimum} needed"
SECURITY_EVENTS_UNAVAILABLE = (
    "Security events cannot be counted: apps.monitoring.selectors.security_event_count is "
    "not available in this version of Resync"
)
NOTHING_EXPECTED = "no enabled HWA connection: no sync is expected"


class MeasureUnavailable(ApplicationError):
    """The metric cannot be measured in this installation (recorded on the rule)."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """A measured value in the rule's unit (None: no data), and how it was measured."""

    value: float | None
    detail: str


@dataclass
class Context:
    """What one evaluation pass shares between its rules: the time, the metrics read once."""

    now: datetime
    _families: list[Metric] | None = field(default=None, repr=False)

    @property
    def families(self) -> list[Metric]:
        if self._families is None:  # read once per pass, only if a rule needs them
            self._families = metrics.collect()
        return self._families

    def change(self, rule: AlertRule, counters: dict[str, float]) -> Change | None:
        """The counters' increase over the rule's window (updates its samples)."""
        change, kept = window_change(
            rule.window_samples, counters, now_ts=self.now.timestamp(), window_s=rule.window_s
        )
        rule.window_samples = kept
        return change


def _sum_by(name: str, families: list[Metric], key: Callable[[dict], str | None]) -> dict:
    """Sample values of `name` summed by key(labels); samples whose key is None left out."""
    sums: dict[str, float] = {}
    for sample in metrics.samples(name, families):
        group = key(sample.labels)
        if group is not None:
            sums[group] = sums.get(group, 0.0) + sample.value
    return sums


def _route_in(scope: str) -> Callable[[dict], bool]:
    return lambda labels: labels.get("route", "").startswith(scope)


def _too_few(count: float, what: str, change: Change, minimum: int) -> Measurement:
    detail = TOO_FEW.format(count=count, what=what, seconds=change.seconds, minimum=minimum)
    return Measurement(None, detail)


# --- windowed: the increase of counters over the window --------------------------------


def response_time_p95(rule: AlertRule, ctx: Context) -> Measurement:
    """95th percentile of request durations (s) in the window, from the histogram buckets."""
    in_scope = _route_in(rule.scope)
    buckets = _sum_by(
        "resync_http_request_duration_seconds_bucket",
        ctx.families,
        lambda labels: labels["le"] if in_scope(labels) else None,
    )
    change = ctx.change(rule, buckets)
    if change is None:
        return Measurement(None, NO_BASELINE)
    requests = change.delta.get("+Inf", 0.0)
    if requests < max(rule.min_samples, 1):
        return _too_few(requests, "requests", change, rule.min_samples)
    p95 = histogram_quantile(P95, [(float(le), n) for le, n in change.delta.items()])
    return Measurement(
        p95, f"p95 {p95:.3f} s over {requests:.0f} requests in the last {change.seconds:.0f} s"
    )


def error_rate(rule: AlertRule, ctx: Context) -> Measurement:
    """5xx responses as a percentage of all responses in the window."""
    in_scope = _route_in(rule.scope)
    counts = _sum_by(
        "resync_http_requests_total",
        ctx.families,
        lambda labels: (
            ("errors" if labels["status"] == "5xx" else "others") if in_scope(labels) else None
        ),
    )
    change = ctx.change(rule, counts)
    if change is None:
        return Measurement(None, NO_BASELINE)
    errors = change.delta.get("errors", 0.0)
    requests = errors + change.delta.get("others", 0.0)
    if requests < max(rule.min_samples, 1):
        return _too_few(requests, "requests", change, rule.min_samples)
    rate = 100.0 * errors / requests
    return Measurement(
        rate,
        f"{rate:.2f} % ({errors:.0f} of {requests:.0f} requests answered 5xx) "
        f"in the last {change.seconds:.0f} s",
    )


def cache_hit_rate(rule: AlertRule, ctx: Context) -> Measurement:
    """Lookups served from the cache, as a percentage, in the window. Blank scope: from
    either tier (memory hits and Redis hits over memory lookups); l1 or l2: that tier's."""
    hits = _sum_by("resync_cache_hits_total", ctx.families, lambda labels: labels["tier"])
    misses = _sum_by("resync_cache_misses_total", ctx.families, lambda labels: labels["tier"])
    if rule.scope:
        tier_hits = hits.get(rule.scope, 0.0)
        counters = {"hits": tier_hits, "lookups": tier_hits + misses.get(rule.scope, 0.0)}
    else:
        l1_hits = hits.get("l1", 0.0)
        counters = {
            "hits": l1_hits + hits.get("l2", 0.0),
            "lookups": l1_hits + misses.get("l1", 0.0),
        }
    change = ctx.change(rule, counters)
    if change is None:
        return Measurement(None, NO_BASELINE)
    lookups = change.delta.get("lookups", 0.0)
    if lookups < max(rule.min_samples, 1):
        return _too_few(lookups, "cache lookups", change, rule.min_samples)
    rate = 100.0 * change.delta.get("hits", 0.0) / lookups
    return Measurement(
        rate, f"{rate:.1f} % of {lookups:.0f} lookups hit in the last {change.seconds:.0f} s"
    )


def pool_exhaustions(rule: AlertRule, ctx: Context) -> Measurement:
    """Waits for a pooled connection that timed out or were refused, in the window."""
    by_pool = _sum_by(
        "resync_pool_exhaustions_total",
        ctx.families,
        lambda labels: labels["pool"] if labels["pool"] == rule.scope or not rule.scope else None,
    )
    change = ctx.change(rule, by_pool)
    if change is None:
        return Measurement(None, NO_BASELINE)
    total = sum(change.delta.values())
    pools = ", ".join(f"{pool} {n:.0f}" for pool, n in sorted(change.delta.items()) if n)
    return Measurement(
        total,
        f"{total:.0f} pool exhaustions in the last {change.seconds:.0f} s"
        + (f" ({pools})" if pools else ""),
    )


def security_events(rule: AlertRule, ctx: Context) -> Measurement:
    """Security events (of the scope's kind, or any) seen in the window."""
    count_events = _security_event_count()
    since = ctx.now - timedelta(seconds=rule.window_s)
    count = count_events(since=since, kind=rule.scope or None)
    what = f"{rule.scope} security events" if rule.scope else "security events"
    return Measurement(float(count), f"{count} {what} in the last {rule.window_s} s")


def _security_event_count() -> Callable[..., int]:
    try:
        from apps.monitoring.selectors import security_event_count
    except ImportError:
        raise MeasureUnavailable(SECURITY_EVENTS_UNAVAILABLE) from None
    return security_event_count


# --- instantaneous: as they are now --------------------------------------------------------


def pool_waiting(rule: AlertRule, ctx: Context) -> Measurement:
    """Callers waiting for a pooled connection now, every process together."""
    labels = {"pool": rule.scope} if rule.scope else {}
    waiting = metrics.value("resync_pool_waiting", ctx.families, **labels)
    if waiting is None:
        return Measurement(None, "no pool reports its waiting callers")
    return Measurement(waiting, f"{waiting:.0f} callers waiting for a pooled connection")


def hwa_breaker_open(rule: AlertRule, ctx: Context) -> Measurement:
    """Processes whose HWA circuit breaker is open (HWA calls refused at once)."""
    value = metrics.value("resync_hwa_circuit_breaker_state", ctx.families, state="open") or 0.0
    return Measurement(value, f"{value:.0f} processes hold HWA for down (circuit breaker open)")


def sync_failures(rule: AlertRule, ctx: Context) -> Measurement:
    """Plan syncs that failed in a row, up to the latest."""
    if not _sync_expected():
        return Measurement(0.0, NOTHING_EXPECTED)
    failures = sync_failures_consecutive()
    return Measurement(float(failures), f"{failures} plan syncs in a row failed")


def sync_age(rule: AlertRule, ctx: Context) -> Measurement:
    """Seconds since the last successful plan sync (since the connection was set up when
    none succeeded yet)."""
    connection = hwa_connection_get()
    if connection is None or not connection.enabled:
        return Measurement(0.0, NOTHING_EXPECTED)
    synced_at = plan_freshness().synced_at
    since = synced_at or connection.created_at
    age = max(0.0, (ctx.now - since).total_seconds())
    if synced_at is None:
        return Measurement(age, f"no successful plan sync in the {age:.0f} s since set-up")
    return Measurement(age, f"the last successful plan sync finished {age:.0f} s ago")


def _sync_expected() -> bool:
    connection = hwa_connection_get()
    return connection is not None and connection.enabled


def jobs_in_error(rule: AlertRule, ctx: Context) -> Measurement:
    """Jobs of the mirrored plan whose status is Error."""
    count = job_counts_by_status().get(JobStatus.ERROR.value, 0)
    return Measurement(float(count), f"{count} jobs in Error")


MEASURES: dict[str, Callable[[AlertRule, Context], Measurement]] = {
    Kind.RESPONSE_TIME_P95: response_time_p95,
    Kind.ERROR_RATE: error_rate,
    Kind.CACHE_HIT_RATE: cache_hit_rate,
    Kind.POOL_EXHAUSTIONS: pool_exhaustions,
    Kind.POOL_WAITING: pool_waiting,
    Kind.SYNC_FAILURES: sync_failures,
    Kind.SYNC_AGE: sync_age,
    Kind.HWA_BREAKER_OPEN: hwa_breaker_open,
    Kind.JOBS_IN_ERROR: jobs_in_error,
    Kind.SECURITY_EVENTS: security_events,
}
WINDOWED = {
    Kind.RESPONSE_TIME_P95,
    Kind.ERROR_RATE,
    Kind.CACHE_HIT_RATE,
    Kind.POOL_EXHAUSTIONS,
    Kind.SECURITY_EVENTS,
}


def measure(rule: AlertRule, ctx: Context) -> Measurement:
    """The rule's metric, measured now."""
    return MEASURES[rule.metric](rule, ctx)
