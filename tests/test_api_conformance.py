"""schemathesis over the OpenAPI schema: every operation, as an administrator and as a viewer.

Each operation gets schemathesis's phases (its coverage cases: boundary values, missing and
wrong parameters, undeclared methods; then generated requests) against the Django WSGI app
in process, on a plan synced from the bundled HWA simulator, so job actions really reach
HWA, and with the bundled model simulator answering the assistant's questions. Every
response must be documented (status, content type, body schema) and none may be a 5xx;
schema-valid input must be accepted and invalid input refused.

Bounded for CI (~1 minute on 2 cores): a fixed seed, MAX_EXAMPLES generated requests per
operation, no shrinking (a failure is reported as found; set no-shrink to False locally to
get a minimal example). The database state of one request carries over to the next (one
transaction per test), as it would on a server: cache and pool settings change, API keys
appear; on-commit work (live reconfiguration) does not run.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

from apps.core.models import Job
from apps.core.services.sync import plan_sync
from apps.security.tokens import AccessToken
from resync_site.handler import ResyncWSGIHandler
from tests.core.assistant.conftest import llm  # noqa: F401
from tests.core.sync_fixtures import hwa, hwa_connection, sim  # noqa: F401

MAX_EXAMPLES = 15

# Schema-valid bodies these operations may still refuse with a 400: rules between fields
# (pool min_size <= max_size, cache entries per shard, memory under half the RAM) or a
# reference (an API key's owner must be an existing user) that a JSON schema cannot say.
CROSS_CHECKED = {
    "include-path-regex": r"^/api/v1/(config/|api-keys/$)",
    "include-method": ["POST", "PUT", "PATCH"],
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
        }
    },
}
# A question may be refused for what it says (an injection probe, mostly encoded data) and
# may name a conversation that does not exist: rules no JSON schema can state.
ASSISTANT_CHECKED = {
    "include-path-regex": r"^/api/v1/assistant/ask/$",
    "include-method": ["POST"],
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "400", "401", "403", "404", "429"]
        }
    },
}
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20260101,
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "no-shrink": True,
            "database": "none",
        },
        "operations": [CROSS_CHECKED, ASSISTANT_CHECKED],
    }
)

# The schema /api/schema/ serves, built when the module is collected: schemathesis makes one
# test per operation from it then (its fixture-based loader does not run on pytest 9).
# test_the_tested_schema_is_the_served_one keeps the two the same.
APP = ResyncWSGIHandler()  # what resync_site.wsgi serves
SCHEMA = SchemaGenerator().get_schema(public=True)
schema = schemathesis.openapi.from_dict(SCHEMA, config=CONFIG)
schema.app = APP

# The same persona (and so one transaction) serves every example of an operation.
one_db_per_test = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def plan(db, hwa, llm, settings):  # noqa: F811
    plan_sync(client=hwa)
    # Throttling has its own tests; here it would turn later examples into 429s.
    settings.RESYNC_THROTTLE_RATES = dict.fromkeys(settings.RESYNC_THROTTLE_RATES)


@pytest.fixture(autouse=True)
def _one_connection():
    # The WSGI app closes the database connection after each request, which would end the
    # test's transaction; Django's own test client keeps it open the same way.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {AccessToken.for_user(user)}"}


@schema.parametrize()
@one_db_per_test
def test_an_administrator_gets_only_documented_answers(case, administrator):
    case.call_and_validate(headers=_bearer(administrator))


@schema.parametrize()
@one_db_per_test
def test_a_viewer_gets_only_documented_answers(case, viewer):
    case.call_and_validate(headers=_bearer(viewer))


def test_job_actions_on_a_real_job_answer_as_documented(administrator, sim):  # noqa: F811
    # Generated ids rarely name a job: this sends every action to HWA for one that exists,
    # in an order HWA accepts (WAIT, held, released, cancelled, rerun), then one it refuses.
    job = Job.objects.get(hwa_id=next(j.hwa_id for j in sim.plan.jobs if j.state == "WAIT"))
    operation = schema["/api/v1/jobs/{id}/actions/{action}/"]["POST"]
    statuses = []
    for action in ("hold", "release", "cancel", "rerun", "release"):
        case = operation.Case(path_parameters={"id": job.pk, "action": action})
        statuses.append(case.call_and_validate(headers=_bearer(administrator)).status_code)

    assert statuses == [200, 200, 200, 200, 409]


def test_the_tested_schema_is_the_served_one(client):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert response.json() == SCHEMA
