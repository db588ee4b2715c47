"""run_monitor in its own process sees what every gunicorn worker answered, through the
shared metrics directory, as deployed (README: Alerts): requests counted by two workers
open an alert whose webhook reaches a real receiver, signed."""

from __future__ import annotations

import hashlib
import hmac
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.bench import harness
from tests.monitoring.alerts.conftest import SECRET

pytestmark = pytest.mark.slow
LIVE = "/api/v1/health/live/"
REQUESTS = 60
SETUP = """
from apps.monitoring.models import AlertRule, WebhookChannel
AlertRule.objects.all().delete()
AlertRule.objects.create(
    name="live answers", metric="response_time_p95", scope="{live}", comparison=">=",
    threshold=0, window_s=300, min_samples={requests}, cooldown_s=0,
)
WebhookChannel.objects.create(name="test", url="{url}", secret="{secret}")
"""


def test_run_monitor_sees_the_requests_of_every_worker(tmp_path, receiver):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = harness.bench_env(
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        LOG_LEVEL="error",
    )
    env.pop("REDIS_URL", None)
    harness.manage(env, "migrate", "--noinput", "-v0")
    harness.shell(env, SETUP.format(live=LIVE, requests=REQUESTS, url=receiver.url, secret=SECRET))

    with harness.gunicorn(env, workers=2, threads=1, ready_path=LIVE) as server:
        baseline = harness.manage(env, "run_monitor", "--once", "--interval", "1")
        with ThreadPoolExecutor(4) as pool:  # new connections at once: both workers serve
            statuses = list(pool.map(lambda _: httpx.get(server.url + LIVE), range(REQUESTS)))
        workers = {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("histogram_*.db")}
        time.sleep(1.1)  # the rule is due again
        evaluated = harness.manage(env, "run_monitor", "--once", "--interval", "1")

    assert [response.status_code for response in statuses] == [200] * REQUESTS
    assert len(workers) == 2  # both workers answered some
    assert "0 opened" in baseline
    assert "1 opened" in evaluated
    assert "1 sent" in evaluated
    (request,) = receiver.requests
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Resync-Signature"] == f"sha256={expected}"
    # Exactly the requests made between the two passes, whichever worker answered them.
    assert f"over {REQUESTS} requests" in request.json()["alert"]["summary"]
