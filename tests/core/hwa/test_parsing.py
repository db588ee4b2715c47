"""Parsing of HWA records: tolerant of absent optional fields, strict about identity."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.core.hwa import errors
from apps.core.hwa.errors import HwaProtocolError
from apps.core.hwa.parsing import list_items, parse_job, parse_stream, parse_workstation


def test_a_job_with_only_its_identity_still_parses() -> None:
    job = parse_job({"id": "J1", "name": "PAYROLL"})
    assert (job.hwa_id, job.name, job.internal_state, job.start, job.rerun_count) == (
        "J1",
        "PAYROLL",
        None,
        None,
        0,
    )


def test_a_job_without_an_id_is_a_protocol_error_naming_the_field() -> None:
    with pytest.raises(HwaProtocolError) as caught:
        parse_job({"name": "PAYROLL"})
    assert caught.value.detail == errors.MISSING_FIELD.format(kind="job", field="id")


def test_a_stream_without_a_name_is_a_protocol_error_naming_the_field() -> None:
    with pytest.raises(HwaProtocolError) as caught:
        parse_stream({"id": "S1", "key": {}})
    assert caught.value.detail == errors.MISSING_FIELD.format(kind="jobstream", field="key.name")


def test_an_unknown_state_is_kept_verbatim() -> None:
    assert parse_job({"id": "1", "name": "A", "internalStatus": "ZZTOP"}).internal_state == "ZZTOP"


def test_offset_times_become_utc_and_bare_times_are_taken_as_utc() -> None:
    job = parse_job(
        {
            "id": "1",
            "name": "A",
            "actualStart": "2025-01-01T10:00:00.000+0200",
            "actualEnd": "2025-01-01T09:00:00",
        }
    )
    assert job.start == datetime(2025, 1, 1, 8, tzinfo=UTC)
    assert job.end == datetime(2025, 1, 1, 9, tzinfo=UTC)


def test_an_unreadable_return_code_is_a_protocol_error() -> None:
    with pytest.raises(HwaProtocolError) as caught:
        parse_job({"id": "1", "name": "A", "returnCode": "n/a"})
    assert caught.value.detail == errors.BAD_FIELD.format(
        kind="job", field="returnCode", value="n/a"
    )


def test_a_workstation_may_lack_type_and_link_state() -> None:
    ws = parse_workstation({"name": "FTA1"})
    assert (ws.name, ws.type, ws.link_state) == ("FTA1", None, None)


def test_a_body_that_is_neither_array_nor_results_is_a_protocol_error() -> None:
    with pytest.raises(HwaProtocolError, match="unexpected response"):
        list_items({"count": 3}, "/plan/current/job/query")


@pytest.mark.parametrize("flavour", ["v1", "v2"])
def test_the_fast_path_reads_simulator_jobs_exactly_like_the_generic_path(flavour) -> None:
    import json

    from apps.core.hwa import parsing
    from apps.core.hwa.simulator import SimulatorPlan

    plan = SimulatorPlan(jobs=500, seed=9)
    plan.tick(20)
    items = [json.loads(plan.job_json(job, flavour)) for job in plan.jobs]

    fast = [parsing._fast_job(item) for item in items]

    assert None not in fast
    generic = [parsing.parse_job({**item, "unknownKey": 1}) for item in items]
    assert fast == generic
