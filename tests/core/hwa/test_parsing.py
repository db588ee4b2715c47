"""Parsing of HWA records: tolerant of absent optional fields, strict about identity."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.hwa import errors
from apps.core.hwa.errors import HwaProtocolError
from apps.core.hwa.parsing import (
    RecordMemo,
    decode_listing,
    list_items,
    parse_job,
    parse_stream,
    parse_workstation,
)
from apps.core.hwa.types import JobRecord


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


# --- Unchanged records: decode_listing and RecordMemo -----------------------------------
def _v1_job(**changes: object) -> dict:
    item = {
        "id": "J1",
        "name": "PAYROLL",
        "jobStreamInPlan": {
            "id": "S1",
            "name": "DAILY",
            "startTime": "2025-01-01T06:00:00+0000",
            "workstationKey": {"name": "MDM"},
        },
        "internalStatus": "SUCC",
        "returnCode": 0,
        "actualStart": "2025-01-01T06:01:00+0000",
        "actualEnd": "2025-01-01T06:02:00+0000",
        "rerunNumber": 0,
    }
    item.update(changes)
    return item


class _CountingParse:
    """parse_job that counts its calls: how many items the memo actually parsed."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, item: object) -> JobRecord:
        self.calls += 1
        return parse_job(item)


def _listing(memo: RecordMemo, *items: dict) -> tuple[JobRecord, ...]:
    seen: dict = {}
    records = memo.records(decode_listing(orjson.dumps(list(items))), seen)
    memo.complete(seen)
    return records


def test_a_listing_decodes_to_the_raw_text_of_each_item_in_both_shapes() -> None:
    v1 = decode_listing(b'[{"id": "J1", "name": "A"}, {"id":"J2","name":"B"}]')
    v2 = decode_listing(b'{"count": 1, "results": [{"id": "J1", "name": "A"}]}')
    assert [bytes(raw) for raw in v1] == [b'{"id": "J1", "name": "A"}', b'{"id":"J2","name":"B"}']
    assert [bytes(raw) for raw in v2] == [b'{"id": "J1", "name": "A"}']


def test_a_listing_of_another_shape_is_reported_as_any_answer_of_that_shape() -> None:
    data = decode_listing(b'{"count": 3}')
    with pytest.raises(HwaProtocolError) as caught:
        list_items(data, "/plan/current/job/query")
    assert "expected a JSON array" in caught.value.detail


@pytest.mark.parametrize("content", [b"[{", b'[{"id": }]', b"not json", b""])
def test_a_listing_that_is_not_json_is_a_value_error(content: bytes) -> None:
    with pytest.raises(ValueError, match=r"truncated|malformed"):
        decode_listing(content)


@pytest.mark.parametrize("item", [b'{"id": "J1", "name": "A", "returnCode": 1e999}', b'"\xff"'])
def test_an_item_the_listing_let_through_but_orjson_rejects_is_a_value_error(item) -> None:
    memo = RecordMemo(parse_job)
    with pytest.raises(ValueError, match=r"infinity|UTF-8"):
        memo.records(decode_listing(b"[" + item + b"]"), {})


def test_the_memo_parses_an_unchanged_item_once_across_listings() -> None:
    parse = _CountingParse()
    memo = RecordMemo(parse)
    first = _listing(memo, _v1_job(), _v1_job(id="J2"))

    second = _listing(memo, _v1_job(), _v1_job(id="J2", internalStatus="ABEND"))

    assert parse.calls == 3  # two new items, then only the one that changed
    assert second[0] is first[0]
    assert second[1] == parse_job(_v1_job(id="J2", internalStatus="ABEND"))


def test_a_restarted_memo_parses_every_item() -> None:
    _listing(RecordMemo(parse_job), _v1_job(), _v1_job(id="J2"))
    parse = _CountingParse()

    records = _listing(RecordMemo(parse), _v1_job(), _v1_job(id="J2"))

    assert parse.calls == 2
    assert records == (parse_job(_v1_job()), parse_job(_v1_job(id="J2")))


def test_an_abandoned_listing_does_not_replace_what_the_memo_remembers() -> None:
    memo = RecordMemo(parse_job)
    _listing(memo, _v1_job(), _v1_job(id="J2"))

    memo.records(decode_listing(orjson.dumps([_v1_job(id="J3")])), {})  # never completed

    assert len(memo) == 2


def test_the_memo_forgets_items_the_last_listing_no_longer_had() -> None:
    parse = _CountingParse()
    memo = RecordMemo(parse)
    _listing(memo, _v1_job(), _v1_job(id="J2"))
    _listing(memo, _v1_job())

    _listing(memo, _v1_job(), _v1_job(id="J2"))

    assert len(memo) == 2
    assert parse.calls == 3  # J2 came back after a listing without it: parsed again


def test_an_unreadable_item_fails_every_listing_it_is_in() -> None:
    memo = RecordMemo(parse_job)
    bad = _v1_job(returnCode="n/a")
    for _ in range(2):
        with pytest.raises(HwaProtocolError):
            _listing(memo, _v1_job(), bad)
    assert len(memo) == 0


# Values a synced field can take (names as in the v1 shape the simulator serves).
_SYNCED_V1_VALUES = {
    "name": st.text(min_size=1, max_size=70),
    "internalStatus": st.sampled_from(["SUCC", "ABEND", "EXEC", "WAIT", "ZZTOP"]),
    "returnCode": st.none() | st.integers(-(2**31), 2**31),
    "actualStart": st.none() | st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
    "actualEnd": st.none() | st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
    "rerunNumber": st.integers(0, 1000),
    "workstationKey": st.none() | st.text(min_size=1, max_size=16).map(lambda n: {"name": n}),
    "jobStreamInPlan": st.fixed_dictionaries(
        {
            "id": st.text(min_size=1, max_size=36),
            "name": st.text(min_size=1, max_size=16),
            "startTime": st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
        }
    ),
}


@given(
    changes=st.lists(
        st.sampled_from(sorted(_SYNCED_V1_VALUES)).flatmap(
            lambda key: st.tuples(st.just(key), _SYNCED_V1_VALUES[key])
        ),
        min_size=1,
        max_size=4,
    )
)
@settings(max_examples=150, deadline=None)
def test_whatever_fields_change_the_memo_gives_what_a_fresh_parse_gives(changes) -> None:
    memo = RecordMemo(parse_job)
    _listing(memo, _v1_job(), _v1_job(id="J2"))
    changed = _v1_job(**dict(changes))

    records = _listing(memo, changed, _v1_job(id="J2"))

    assert records == (parse_job(changed), parse_job(_v1_job(id="J2")))
