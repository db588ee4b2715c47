"""Alert rules, the alerts they open, the webhook channels and the notifications sent.

(Imported by apps/monitoring/models.py, so they belong to the monitoring app.)
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    URLValidator,
    validate_email,
)
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.pools.defaults import POOL_NAMES
from apps.security.crypto import EncryptedTextField


class Severity(models.TextChoices):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
WEBHOOK_SCHEMES = ["http", "https"]
WEBHOOK_SECRET_MIN_LENGTH = 16


class Metric(models.TextChoices):
    """What a rule measures; the label gives the unit its threshold is in."""

    RESPONSE_TIME_P95 = "response_time_p95", "Response time, 95th percentile (seconds)"
    ERROR_RATE = "error_rate", "Error rate: share of 5xx responses (%)"
    CACHE_HIT_RATE = "cache_hit_rate", "Cache hit rate (%)"
    POOL_EXHAUSTIONS = "pool_exhaustions", "Pool exhaustions in the window (count)"
    POOL_WAITING = "pool_waiting", "Callers waiting for a pooled connection now (count)"
    SYNC_FAILURES = "sync_failures", "Consecutive failed plan syncs (count)"
    SYNC_AGE = "sync_age", "Age of the last successful plan sync (seconds)"
    HWA_BREAKER_OPEN = "hwa_breaker_open", "Processes whose HWA circuit breaker is open (count)"
    JOBS_IN_ERROR = "jobs_in_error", "Jobs in Error now (count)"
    SECURITY_EVENTS = "security_events", "Security events in the window (count)"


PERCENT_METRICS = {Metric.ERROR_RATE, Metric.CACHE_HIT_RATE}
# How a threshold is written in messages ("> 1 s", "> 5 %", "> 0").
UNITS = {
    Metric.RESPONSE_TIME_P95: " s",
    Metric.SYNC_AGE: " s",
    Metric.ERROR_RATE: " %",
    Metric.CACHE_HIT_RATE: " %",
}
ROUTE_SCOPED = {Metric.RESPONSE_TIME_P95, Metric.ERROR_RATE}
POOL_SCOPED = {Metric.POOL_EXHAUSTIONS, Metric.POOL_WAITING}
CACHE_TIERS = ("l1", "l2")
NO_SCOPE = "This metric takes no scope: leave it blank."
ROUTE_SCOPE = "A route template prefix starts with / (e.g. /api/v1/jobs/), or is 'unmatched'."
POOL_SCOPE = "A pool: database, redis or hwa_http."
TIER_SCOPE = "A cache tier: l1 (memory) or l2 (Redis)."
SECURITY_KIND_SCOPE = "A security event kind: {kinds}."
PERCENT_RANGE = "A percentage is between 0 and 100."
NEGATIVE = "This metric is never negative."
NOT_AN_ADDRESS = "{address!r} is not an email address."


def split_addresses(text: str) -> list[str]:
    """The addresses of a comma-separated list."""
    return [address.strip() for address in text.split(",") if address.strip()]


def _scope_problem(metric: str, scope: str) -> str | None:
    if not scope:
        return None
    if metric in ROUTE_SCOPED:
        return None if scope.startswith("/") or scope == "unmatched" else ROUTE_SCOPE
    if metric in POOL_SCOPED:
        return None if scope in POOL_NAMES else POOL_SCOPE
    if metric == Metric.CACHE_HIT_RATE:
        return None if scope in CACHE_TIERS else TIER_SCOPE
    if metric == Metric.SECURITY_EVENTS:
        kinds = _security_event_kinds()
        if kinds is None or scope in kinds:
            return None
        return SECURITY_KIND_SCOPE.format(kinds=", ".join(kinds))
    return NO_SCOPE


def _security_event_kinds() -> list[str] | None:
    """The kinds security events have, or None where this version records none."""
    from apps.monitoring import models as monitoring_models

    security_event = getattr(monitoring_models, "SecurityEvent", None)
    return None if security_event is None else list(security_event.Kind.values)


class Comparison(models.TextChoices):
    GT = ">", "above (>)"
    GE = ">=", "at or above (>=)"
    LT = "<", "below (<)"
    LE = "<=", "at or below (<=)"


class AlertRule(models.Model):
    """A condition on one measured value that opens an alert while it holds."""

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(
        default=True, help_text="Off: not evaluated; turning it off resolves its open alert."
    )
    metric = models.CharField(max_length=32, choices=Metric.choices)
    scope = models.CharField(
        max_length=200,
        blank=True,
        help_text=(
            "Narrows the metric; blank: everything. Response time and error rate: a route "
            "template prefix (/api/v1/jobs/). Pools: database, redis or hwa_http. Cache hit "
            "rate: tier l1 or l2. Security events: a kind (sql_injection, xss, ...)."
        ),
    )
    comparison = models.CharField(max_length=2, choices=Comparison.choices, default=Comparison.GT)
    threshold = models.FloatField(
        help_text=(
            "In the metric's unit: seconds (response time, sync age), percent (error rate, "
            "cache hit rate: 5 means 5 %), a count for the others."
        )
    )
    window_s = models.PositiveIntegerField(
        "window (s)",
        default=300,
        validators=[MinValueValidator(60), MaxValueValidator(86_400)],
        help_text=(
            "Seconds looked back by rates, percentiles and counts (response time, error "
            "rate, cache hit rate, pool exhaustions, security events). The others are "
            "measured as they are now."
        ),
    )
    min_samples = models.PositiveIntegerField(
        default=20,
        validators=[MaxValueValidator(1_000_000)],
        help_text=(
            "Requests (cache lookups for the hit rate) the window must hold before a rate or "
            "percentile is judged; fewer is 'no data': the alert neither opens nor resolves."
        ),
    )
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.WARNING)
    cooldown_s = models.PositiveIntegerField(
        "cooldown (s)",
        default=900,
        validators=[MaxValueValidator(7 * 86_400)],
        help_text=(
            "After this rule notifies an opening, seconds before it notifies another one: a "
            "flapping rule notifies once per cooldown. An alert opened meanwhile is notified "
            "when the cooldown ends if it is still open; one that resolved meanwhile, never."
        ),
    )
    email_recipients = models.CharField(
        max_length=1000,
        blank=True,
        help_text=(
            "Comma-separated email addresses. Blank: RESYNC_ALERT_EMAIL_TO. Neither: no email "
            "(webhook channels still get every alert at or above their minimum severity)."
        ),
    )
    note = models.TextField(
        blank=True, help_text="What to do about it: included in every notification."
    )
    # Bookkeeping of the evaluator (never edited by hand).
    next_evaluation_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    last_evaluated_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_value = models.FloatField(null=True, blank=True, editable=False)
    last_detail = models.CharField(max_length=300, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_notified_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When an opening was last notified."
    )
    window_samples = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="[[unix time, {counter: value}], ...]: the cumulative counters over the window.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        problem = _scope_problem(self.metric, self.scope)
        if problem:
            errors["scope"] = problem
        if self.threshold is not None:
            if self.metric in PERCENT_METRICS and not 0 <= self.threshold <= 100:
                errors["threshold"] = PERCENT_RANGE
            elif self.threshold < 0:
                errors["threshold"] = NEGATIVE
        for address in split_addresses(self.email_recipients):
            try:
                validate_email(address)
            except ValidationError:
                errors["email_recipients"] = NOT_AN_ADDRESS.format(address=address)
                break
        if errors:
            raise ValidationError(errors)


class Alert(models.Model):
    """One time a rule's condition held: open while it holds, then resolved."""

    class State(models.TextChoices):
        OPEN = "open"
        RESOLVED = "resolved"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    # Copied from the rule when it opened: later edits of the rule do not rewrite history.
    rule_name = models.CharField(max_length=100)
    metric = models.CharField(max_length=32, choices=Metric.choices)
    scope = models.CharField(max_length=200, blank=True)
    comparison = models.CharField(max_length=2, choices=Comparison.choices)
    threshold = models.FloatField()
    severity = models.CharField(max_length=8, choices=Severity.choices)
    value = models.FloatField(help_text="The measured value that opened it.")
    last_value = models.FloatField(null=True, blank=True, help_text="The latest measured value.")
    summary = models.CharField(max_length=300, help_text="What was measured when it opened.")
    opened_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_evaluated_at = models.DateTimeField(default=timezone.now)
    notified = models.BooleanField(
        default=False,
        help_text="Its opening was notified (then so is its resolution); false within a cooldown.",
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # However many evaluators run, a rule has at most one open alert.
            models.UniqueConstraint(
                fields=["rule"],
                condition=Q(state="open"),
                name="monitoring_alert_one_open_per_rule",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule_name} {self.state} since {self.opened_at:%Y-%m-%d %H:%M:%S}"


class WebhookChannel(models.Model):
    """An HTTP endpoint that receives alerts as JSON, signed with its secret (HMAC-SHA256)."""

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    url = models.URLField(
        max_length=500,
        validators=[URLValidator(schemes=WEBHOOK_SCHEMES)],
        help_text="http:// or https:// URL that receives a POST per notification.",
    )
    secret = EncryptedTextField(
        help_text="Signs each body (X-Resync-Signature: sha256=<hex>); stored encrypted."
    )
    min_severity = models.CharField(
        max_length=8,
        choices=Severity.choices,
        default=Severity.INFO,
        help_text="Alerts below this severity are not sent here.",
    )
    timeout_s = models.FloatField(
        "timeout (s)",
        default=5.0,
        validators=[MinValueValidator(0.5), MaxValueValidator(30)],
        help_text="Seconds to wait for the receiver's answer to one attempt.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"


class Notification(models.Model):
    """One message about an alert (or a test) to one destination, with its delivery attempts."""

    class Event(models.TextChoices):
        OPEN = "open"
        RESOLVE = "resolve"
        TEST = "test"

    class Channel(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    rule = models.ForeignKey(AlertRule, null=True, blank=True, on_delete=models.CASCADE)
    event = models.CharField(max_length=8, choices=Event.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    webhook = models.ForeignKey(WebhookChannel, null=True, blank=True, on_delete=models.CASCADE)
    target = models.TextField(help_text="The URL, or the email addresses.")
    payload = models.JSONField(help_text="The message, exactly as every attempt sends it.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=1)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} via {self.channel} to {self.target}: {self.status}"
