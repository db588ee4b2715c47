"""The PostgreSQL backend's start-up probe: an unreachable database fails fast, in one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.db.utils import ConnectionHandler

from apps.core.db.postgresql.base import TIMED_OUT, UNREACHABLE, DatabaseWrapper

ROOT = Path(__file__).resolve().parents[3]
CONNECT_TIMEOUT_S = 2
# A hang guard, not a timing check (the message names the connect timeout that ended it):
# before the probe the same command took over 20 s (twice the pool timeout).
COMMAND_HANG_S = 60


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never answers: a server that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def _wrapper(alias: str, **overrides) -> DatabaseWrapper:
    """A pooled wrapper of its own (own alias, so the test's pool is never touched)."""
    options = {
        "connect_timeout": CONNECT_TIMEOUT_S,
        "pool": {"min_size": 0, "max_size": 2, "timeout": 10},
    }
    config = {"ENGINE": "apps.core.db.postgresql", "USER": "postgres", "OPTIONS": options}
    handler = ConnectionHandler({"default": {**config, **overrides}})
    return DatabaseWrapper(handler.settings["default"], alias=alias)


@pytest.fixture
def wrappers(django_db_blocker) -> Iterator[list[DatabaseWrapper]]:
    made: list[DatabaseWrapper] = []
    with django_db_blocker.unblock():  # these wrappers are not the test database
        yield made
    for wrapper in made:
        wrapper.close()
        wrapper.close_pool()
        DatabaseWrapper._failures.pop(wrapper.alias, None)
        DatabaseWrapper._reachable.discard(wrapper.alias)


def test_a_server_that_never_answers_fails_within_the_connect_timeout_and_names_it(
    silent_port, wrappers
):
    wrappers.append(_wrapper("probe-silent", NAME="resync", HOST="127.0.0.1", PORT=silent_port))

    with pytest.raises(OperationalError) as failure:
        wrappers[0].ensure_connection()

    cause = TIMED_OUT.format(host="127.0.0.1", port=silent_port, seconds=CONNECT_TIMEOUT_S)
    assert str(failure.value) == UNREACHABLE.format(name="resync", cause=cause)
    assert wrappers[0].pool.closed  # never opened: no pool retrying and logging warnings


def test_a_second_attempt_soon_after_fails_at_once_with_the_same_reason(silent_port, wrappers):
    wrappers.append(_wrapper("probe-again", NAME="resync", HOST="127.0.0.1", PORT=silent_port))
    with pytest.raises(OperationalError) as first:
        wrappers[0].ensure_connection()

    with pytest.raises(OperationalError) as second:
        wrappers[0].ensure_connection()

    assert str(second.value) == str(first.value)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a PostgreSQL server")
def test_a_missing_database_is_named_with_the_servers_reason(wrappers):
    server = connection.settings_dict
    wrappers.append(
        _wrapper(
            "probe-missing", NAME="resync_no_such_db", HOST=server["HOST"], PORT=server["PORT"]
        )
    )

    with pytest.raises(OperationalError) as failure:
        wrappers[0].ensure_connection()

    assert 'database "resync_no_such_db" does not exist' in str(failure.value)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a PostgreSQL server")
@pytest.mark.django_db
def test_a_reachable_database_opens_its_pool_as_usual(wrappers):
    server = connection.settings_dict
    wrappers.append(
        _wrapper("probe-ok", NAME=server["NAME"], HOST=server["HOST"], PORT=server["PORT"])
    )

    with wrappers[0].cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert not wrappers[0].pool.closed


def test_manage_py_prints_one_line_and_exits_non_zero(silent_port, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RESYNC_"))}
    env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{silent_port}/resync"
    env["RESYNC_LOCAL_FILE"] = str(tmp_path / "local.json")

    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=COMMAND_HANG_S,
    )

    assert result.returncode == 1
    cause = TIMED_OUT.format(host="127.0.0.1", port=silent_port, seconds=3)
    assert result.stderr.splitlines() == [
        "Error: " + UNREACHABLE.format(name="resync", cause=cause)
    ]
