"""Resync's Prometheus metrics, and the one way to read them: `collect()`.

For readers inside Resync (the alert evaluator) as much as for Prometheus (`GET /metrics`):

    from apps.monitoring import metrics

    families = metrics.collect()            # every metric family, every worker process
    metrics.value("resync_http_requests_total", families, status="5xx")  # sum, or None
    metrics.samples("resync_pool_waiting", families, pool="database")    # the samples

`collect()` returns prometheus_client `Metric` families (name, type, documentation,
samples). With PROMETHEUS_MULTIPROC_DIR set (gunicorn with several workers: see
resync_site/gunicorn.conf.py), per-process metrics come from every process's files, merged as each
metric's multiprocess mode says; without it, from this process's default registry (which
also holds prometheus_client's process_* and python_* metrics). Either way the
database-backed families (stored.py) are added. Sample names are the exposition names:
a counter's sample is `..._total`, a histogram's `..._bucket`, `..._sum`, `..._count`.

Where each family comes from:
- definitions.py: the metric objects (`metrics.definitions.HTTP_REQUESTS`, ...). HTTP
  requests and latency are counted per request by middleware.py; HWA exchanges by an
  observer of apps.core.hwa.client (apps.py wires it).
- live.py: cache, pool and HWA breaker figures, read from their own statistics when
  collected (and every few seconds in each worker when there are several).
- stored.py: plan sync state and jobs per status, read from the database (cached 15 s).
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import REGISTRY
from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.samples import Sample

from apps.monitoring.metrics import definitions  # noqa: F401  (the metric objects)
from apps.monitoring.metrics.live import multiprocess, publish
from apps.monitoring.metrics.stored import stored_families


def collect() -> list[Metric]:
    """Every metric family of every process, read now (see the module docstring)."""
    publish()  # this process's live figures, as of this instant
    every_process = MultiProcessCollector(None) if multiprocess() else REGISTRY
    per_process = every_process.collect()
    return [*per_process, *stored_families()]


def samples(name: str, families: Iterable[Metric] | None = None, **labels: str) -> list[Sample]:
    """The samples named `name` whose labels include `labels` (from `families`, or collected
    now), e.g. samples("resync_pool_in_use", pool="database")."""
    chosen = collect() if families is None else families
    return [
        sample
        for family in chosen
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    ]


def value(name: str, families: Iterable[Metric] | None = None, **labels: str) -> float | None:
    """The sum of the matching samples' values; None when no sample matches."""
    found = samples(name, families, **labels)
    return sum(sample.value for sample in found) if found else None


class _Families:
    """The collected families in the shape prometheus_client's encoders read."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families


def render(accept: str | None) -> tuple[bytes, str]:
    """The exposition body and its content type: the Prometheus text format, or OpenMetrics
    when the Accept header asks for it (as Prometheus itself does)."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(_Families(collect())), content_type
