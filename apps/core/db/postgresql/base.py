"""PostgreSQL with Django's psycopg pool, failing fast and plainly when the server is unreachable.

Django's pool hides why it cannot connect: getconn() waits the whole pool timeout while
the pool logs a warning per attempt, and the caller only learns "couldn't get a connection
after 10.00 sec". So before a process first opens its pool, one direct connection
(bounded by OPTIONS["connect_timeout"]) tries the server; if it fails, the error names the
cause (database missing, host down, connection refused, bad password) at once and the pool
is never opened. A failure is remembered for PROBE_HOLD_S so that one command's several
attempts (its system checks, then the command) do not each wait again. Once a probe has
succeeded the pool is on its own: outages at run time are the pool's business.
"""

from __future__ import annotations

import re
import time
from typing import Any, ClassVar

from django.db.backends.postgresql import base

UNREACHABLE = "Cannot connect to the database {name!r} (DATABASE_URL): {cause}"
TIMED_OUT = "no answer from {host}:{port} within {seconds} s (host down or blocked?)"
PROBE_HOLD_S = 5.0


class DatabaseUnreachable(base.Database.OperationalError):
    """The server could not be reached before the pool opened; the message names why."""


def unreachable_reason(exc: BaseException | None) -> str | None:
    """The one-line reason if `exc` (or what caused it) is a DatabaseUnreachable."""
    while exc is not None:
        if isinstance(exc, DatabaseUnreachable):
            return str(exc)
        exc = exc.__cause__
    return None


def _cause(exc: Exception, params: dict[str, Any]) -> str:
    text = " ".join(str(exc).split())  # libpq spreads one failure over several lines
    text = text.removeprefix("connection failed: ")
    if text == "connection timeout expired":
        return TIMED_OUT.format(
            host=params.get("host", "localhost"),
            port=params.get("port", 5432),
            seconds=params.get("connect_timeout"),
        )
    return re.sub(r"FATAL: +", "", text)


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's PostgreSQL backend plus one quick probe before the pool first opens."""

    _reachable: ClassVar[set[str]] = set()
    _failures: ClassVar[dict[str, tuple[float, str]]] = {}

    def get_new_connection(self, conn_params: dict[str, Any]):
        if self.pool is not None and self.alias not in self._reachable:
            self._probe(conn_params)
        return super().get_new_connection(conn_params)

    def _probe(self, conn_params: dict[str, Any]) -> None:
        failed = self._failures.get(self.alias)
        if failed and time.monotonic() - failed[0] < PROBE_HOLD_S:
            raise DatabaseUnreachable(failed[1])
        try:
            self.Database.connect(**conn_params).close()
        except self.Database.Error as exc:
            message = UNREACHABLE.format(
                name=conn_params.get("dbname"), cause=_cause(exc, conn_params)
            )
            self._failures[self.alias] = (time.monotonic(), message)
            raise DatabaseUnreachable(message) from None
        self._reachable.add(self.alias)
        self._failures.pop(self.alias, None)
