from __future__ import annotations

import pytest

from apps.core.states import CURRENT_INTERNAL_STATES, JobStatus, status_for
from tests.factories import JobFactory


def test_every_documented_state_has_a_status_other_than_undecided_or_is_deliberately_so():
    undecided_on_purpose = {"DONE", "EXTRN"}
    for state in CURRENT_INTERNAL_STATES:
        expected_undecided = state in undecided_on_purpose
        assert (status_for(state) == JobStatus.UNDECIDED) is expected_undecided, state


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("SUCC", JobStatus.SUCCESSFUL),
        ("ABEND", JobStatus.ERROR),
        ("CANCL", JobStatus.CANCELED),
        ("HOLD", JobStatus.HELD),
        ("EXEC", JobStatus.RUNNING),
        ("WAIT", JobStatus.WAITING),
        ("READY", JobStatus.READY),
        ("FENCE", JobStatus.BLOCKED),
        ("SUPPR", JobStatus.SUPPRESSED),
    ],
)
def test_it_maps_internal_states_to_the_console_status(state, status):
    assert status_for(state) == status


def test_an_unknown_state_is_undecided_not_an_error():
    assert status_for("WHATEVER") == JobStatus.UNDECIDED


@pytest.mark.django_db
@pytest.mark.parametrize("state", [*CURRENT_INTERNAL_STATES, "SUSP", "NEWSTATE"])
def test_the_database_derives_the_same_status_as_the_python_mapping(state):
    job = JobFactory(internal_state=state)
    job.refresh_from_db()
    assert job.status == status_for(state)
    assert job.internal_state == state
