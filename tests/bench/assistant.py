"""What Resync adds around the assistant's model (`python -m tests.bench.assistant`).

In one process, on a throwaway test database (SQLite, or DATABASE_URL's server with a
`test_` prefix) holding the demo plan (`--jobs`), with the bundled model simulator at zero
latency over HTTP:

1. latency added: `--requests` one-tool questions ("how many jobs are held?", which calls
   status_summary) through the whole API stack (authentication, validation, conversation
   rows, the tool, sanitizing, audit), timed end to end; the model's own time (every HTTP
   exchange with the simulator, as the client's call observers measure it) is subtracted.
   p50 and p95 of both, in milliseconds.
2. queries per tool call: each tool run once on the demo plan, its queries counted, against
   the bound the tests assert (apps/core/assistant/tools.py MAX_QUERIES).

Figures from a busy machine say little: run it alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
django.setup()

from django.conf import settings  # noqa: E402 - after django.setup()
from django.db import connection  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
    teardown_test_environment,
)
from rest_framework.test import APIClient  # noqa: E402

from apps.core.assistant.llm import client as llm_client_module  # noqa: E402
from apps.core.assistant.llm.simulator import LlmSimulator  # noqa: E402
from apps.core.assistant.tools import MAX_QUERIES, ToolContext, tool_call  # noqa: E402
from apps.core.models import Job  # noqa: E402
from apps.core.services.assistant_config import (  # noqa: E402
    assistant_config_update,
    client_close,
)
from apps.core.services.demo_plan import demo_plan_load  # noqa: E402

QUESTION = "how many jobs are held?"


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _user():
    from django.contrib.auth import get_user_model

    from apps.security.roles import OPERATOR

    user = get_user_model().objects.create_user("bench-operator", password="x" * 20)
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name=OPERATOR))
    return user


def measure_latency(user, requests: int) -> dict[str, float]:
    model_seconds: list[float] = []
    observer = lambda op, seconds, failure: model_seconds.append(seconds or 0.0)  # noqa: E731
    llm_client_module.call_observers.append(observer)
    client = APIClient()
    client.force_authenticate(user)
    totals, added = [], []
    try:
        for _ in range(requests + 5):  # the first five warm the caches and the pool
            model_seconds.clear()
            started = time.perf_counter()
            response = client.post("/api/v1/assistant/ask/", {"prompt": QUESTION}, format="json")
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.content
            totals.append(elapsed)
            added.append(elapsed - sum(model_seconds))
    finally:
        llm_client_module.call_observers.remove(observer)
    totals, added = totals[5:], added[5:]
    return {
        "total p50": _percentile(totals, 50) * 1000,
        "total p95": _percentile(totals, 95) * 1000,
        "added p50": _percentile(added, 50) * 1000,
        "added p95": _percentile(added, 95) * 1000,
        "added mean": statistics.fmean(added) * 1000,
    }


def measure_queries(user) -> dict[str, int]:
    from apps.core.assistant.conversations import conversation_start

    job = Job.objects.order_by("id").first()
    stream, workstation = job.stream.name, job.workstation.name
    calls = {
        "search_jobs": {"status": "Error", "limit": 50},
        "status_summary": {},
        "job_detail": {"job_id": job.pk},
        "stream_detail": {"stream": stream},
        "workstation_detail": {"workstation": workstation},
        "sync_freshness": {},
        "health": {},
        "propose_action": {"job_id": job.pk, "action": "hold"},
    }
    conversation = conversation_start(user=user, question="bench")
    context = ToolContext(user=user, question=f"hold {job.name}", conversation=conversation)
    counts = {}
    for name, arguments in calls.items():
        with CaptureQueriesContext(connection) as queries:
            result = tool_call(name, arguments, context)
        assert not result.error, result.data
        counts[name] = len(queries)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=5000)
    args = parser.parse_args()
    settings.RESYNC_THROTTLE_RATES = dict.fromkeys(settings.RESYNC_THROTTLE_RATES)
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        demo_plan_load(jobs=args.jobs, seed=7)
        user = _user()
        with LlmSimulator() as sim:
            assistant_config_update(
                actor=None, source="system", values={"base_url": sim.base_url, "model": sim.model}
            )
            client_close()
            print(f"{connection.vendor}, {args.jobs:,} jobs, {args.requests} questions")
            for label, value in measure_latency(user, args.requests).items():
                print(f"  {label:<11} {value:8.2f} ms")
            print("queries per tool call (bound):")
            for name, count in measure_queries(user).items():
                print(f"  {name:<19} {count:3d}  ({MAX_QUERIES[name]})")
            client_close()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
