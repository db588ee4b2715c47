"""manage.py verify_audit_log: one line, and a non-zero exit when the chain is broken."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.monitoring.chain import CHAINED_FIELDS, EDITED, HEAD_GONE, HEAD_REWRITTEN, row_hash
from apps.monitoring.models import AuditEvent
from apps.monitoring.services import audit_events_prune, audit_record
from tests.monitoring.test_chain import tamper

pytestmark = pytest.mark.django_db


def _events(count: int) -> list[AuditEvent]:
    return [
        audit_record(actor=None, source="system", action="test.event", target=f"t:{n}")
        for n in range(count)
    ]


def _verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_audit_log", "--batch-size", "2", *args, stdout=out)
    return out.getvalue()


def test_an_intact_log_prints_its_size_and_head() -> None:
    events = _events(3)

    assert _verify().splitlines() == [
        f"Audit log intact: 3 rows (ids {events[0].pk} to {events[2].pk}); "
        f"head {events[2].pk}:{events[2].hash}."
    ]


def test_a_pruned_log_names_its_checkpoint() -> None:
    old = AuditEvent.objects.create(
        actor_name="ops",
        source="api",
        action="a",
        target="t",
        at=timezone.now() - timedelta(days=90),
    )
    audit_events_prune(older_than=timezone.now() - timedelta(days=30))

    assert f"after the pruning checkpoint at row {old.pk}" in _verify()


def test_an_empty_log_is_intact() -> None:
    assert _verify().strip() == "Audit log intact: no rows."


def test_a_broken_log_names_the_row_and_exits_non_zero() -> None:
    events = _events(3)
    tamper("UPDATE monitoring_auditevent SET detail = 'edited' WHERE id = %s", [events[2].pk])

    with pytest.raises(CommandError) as raised:
        _verify()

    assert str(raised.value) == (
        f"Audit log broken after 2 good rows: {EDITED.format(id=events[2].pk)}"
    )


def test_a_failure_is_a_non_zero_exit_status_for_a_cron_job() -> None:
    """As a process of its own (a CommandError becomes exit status 1 and a line on stderr)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_audit_log", "--batch-size", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "--batch-size must be at least 1" in result.stderr


def _head(event: AuditEvent) -> str:
    return f"{event.pk}:{event.hash}"


def test_a_head_recorded_earlier_must_still_be_there() -> None:
    events = _events(4)
    head = _head(events[2])

    _events(1)  # the log goes on
    assert "intact" in _verify("--head", head)
    tamper("DELETE FROM monitoring_auditevent WHERE id >= %s", [events[2].pk])

    with pytest.raises(CommandError, match=re.escape(HEAD_GONE.format(id=events[2].pk))):
        _verify("--head", head)


def test_newest_rows_deleted_then_the_log_going_on_is_still_found() -> None:
    events = _events(3)
    head = _head(events[2])
    tamper("DELETE FROM monitoring_auditevent WHERE id = %s", [events[2].pk])
    _events(1)  # Resync appends after the truncated head: the chain itself links up

    with pytest.raises(CommandError, match=re.escape(HEAD_GONE.format(id=events[2].pk))):
        _verify("--head", head)


def test_a_head_rewritten_with_its_followers_is_found() -> None:
    events = _events(2)
    head = _head(events[1])
    values = AuditEvent.objects.values(*CHAINED_FIELDS).get(pk=events[1].pk)
    values["detail"] = "nothing happened"
    tamper(
        "UPDATE monitoring_auditevent SET detail = 'nothing happened', hash = %s WHERE id = %s",
        [row_hash(values), events[1].pk],
    )

    with pytest.raises(CommandError, match=re.escape(HEAD_REWRITTEN.format(id=events[1].pk))):
        _verify("--head", head)


def test_a_pruned_head_is_no_problem() -> None:
    old = AuditEvent.objects.create(
        actor_name="ops",
        source="api",
        action="a",
        target="t",
        at=timezone.now() - timedelta(days=90),
    )
    audit_events_prune(older_than=timezone.now() - timedelta(days=30))

    assert "intact" in _verify("--head", _head(old))


def test_a_malformed_head_is_refused() -> None:
    with pytest.raises(CommandError, match="--head must be ID:HASH"):
        _verify("--head", "latest")
