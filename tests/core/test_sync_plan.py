"""manage.py sync_plan's output: one summary line per run, failures once, bars only on a tty."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.core.services.hwa import NOT_CONFIGURED
from tests.core.sync_fixtures import JOBS

pytestmark = pytest.mark.django_db
PAGE = 100  # the hwa_connection fixture's page size


class FakeTerminal(StringIO):
    def isatty(self) -> bool:
        return True


def _sync(stderr: StringIO | None = None) -> tuple[str, str]:
    out, err = StringIO(), stderr or StringIO()
    call_command("sync_plan", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_redirected_output_is_one_summary_line_and_no_progress(hwa_connection, capsys) -> None:
    out, err = _sync()

    assert out.startswith("Sync ok in ")
    assert out.count("\n") == 1
    assert f"jobs +{JOBS} " in out
    assert err == ""  # no bars, no escape codes
    assert capsys.readouterr().err == ""  # nor on the process's own stderr


def test_on_a_terminal_the_bars_show_every_page_up_to_the_total(hwa_connection) -> None:
    out, err = _sync(stderr=FakeTerminal())

    drawn = [int(n) for n in re.findall(r"jobs: (\d+) rec", err)]
    assert drawn[-1] == JOBS
    assert set(range(0, JOBS + 1, PAGE)) <= set(drawn)
    assert out.startswith("Sync ok in ")


def test_a_failed_run_is_reported_once(hwa_connection, sim) -> None:
    sim.set_faults(wrong_credentials=True)
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match=r"^Sync failed: HWA rejected the credentials"):
        call_command("sync_plan", stdout=out, stderr=err)

    # Django prints the CommandError itself: nothing else may repeat it.
    assert (out.getvalue(), err.getvalue()) == ("", "")


def test_no_connection_is_a_one_line_failure(db) -> None:
    with pytest.raises(CommandError) as failure:
        _sync()

    assert str(failure.value) == NOT_CONFIGURED
