"""System (/system/): health, pools, cache, open alerts, recent audit and security events.

For administrators and auditors (security.view_monitoring). Health comes from the same
report as /api/v1/health/ (kept a second per process); pool and cache figures are this
process's, as in /api/v1/pools/stats/ and /api/v1/cache/stats/. The live part refreshes
every few seconds like the overview's.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from apps.cache.selectors import cache_stats
from apps.core.console.access import ConsoleView
from apps.core.console.charts import horizontal_bars
from apps.core.selectors.pools import pool_stats
from apps.monitoring.alerts.selectors import alert_list
from apps.monitoring.selectors import audit_event_list, health_report, security_event_list
from apps.security.permissions import VIEW_MONITORING

REFRESH_SECONDS = 5
RECENT_ROWS = 12


def _pools() -> tuple[list[dict], object]:
    pools = pool_stats()["pools"]
    rows = [{"name": name, **figures} for name, figures in pools.items()]
    bars = [(r["name"], r["in_use"] or 0, r["size"] or 0) for r in rows if r["size"]]
    return rows, horizontal_bars(bars) if bars else None


def _cache() -> tuple[dict, object]:
    stats = cache_stats()
    l1 = stats["tiers"].get("l1")
    chart = None
    if l1:
        total = l1["total"]
        bars = [
            ("memory", total["bytes"], total["max_bytes"] or 0),
            ("entries", total["entries"], total["max_entries"] or 0),
            ("hits", total["hits"], total["hits"] + total["misses"]),
        ]
        chart = horizontal_bars(bars)
    return stats, chart


def live_context() -> dict:
    pools, pool_chart = _pools()
    cache, cache_chart = _cache()
    return {
        "health": health_report(),
        "pools": pools,
        "pool_chart": pool_chart,
        "cache": cache,
        "cache_chart": cache_chart,
        "alerts": list(alert_list().filter(state="open").order_by("-opened_at")[:RECENT_ROWS]),
        "audit": list(audit_event_list()[:RECENT_ROWS]),
        "security_events": list(security_event_list()[:RECENT_ROWS]),
    }


class SystemView(ConsoleView):
    """How Resync itself is doing."""

    required_permission = VIEW_MONITORING
    section = "console-system"

    def get(self, request: HttpRequest) -> HttpResponse:
        context = {**live_context(), "refresh_seconds": REFRESH_SECONDS}
        return self.render(request, "console/system.html", context)


class SystemLiveView(ConsoleView):
    """The system page's live part alone, for its auto-refresh."""

    required_permission = VIEW_MONITORING

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(request, "console/_system_live.html", live_context())
