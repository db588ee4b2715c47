"""The seed's load profile (performance-security-plan.md, LOCUST_CONFIG) for `make loadtest`.

Its three endpoints, on their seed paths (resync_site/seed_aliases.py): health without
credentials, cache statistics and the jobs status summary with a bearer token (an auditor
and viewer, RESYNC_LOADTEST_TOKEN). The seed gives no think time; a user here waits 0.5 to
1.5 s between requests, as a dashboard or an operator does, so 1,000 users offer about
1,000 requests/s: a latency test at a realistic load, not a saturation test.
"""

from __future__ import annotations

import os

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

TOKEN = os.environ.get("RESYNC_LOADTEST_TOKEN", "")


class SeedUser(FastHttpUser):
    wait_time = between(0.5, 1.5)

    @task
    def health(self) -> None:
        self.client.get("/api/health")

    @task
    def cache_stats(self) -> None:
        self.client.get("/api/cache/stats", headers={"Authorization": f"Bearer {TOKEN}"})

    @task
    def jobs_status(self) -> None:
        self.client.get("/api/jobs/status", headers={"Authorization": f"Bearer {TOKEN}"})
