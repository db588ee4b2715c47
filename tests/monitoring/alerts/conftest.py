"""Fixtures for the alert tests: a real HTTP receiver on a free loopback port, rules, channels."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from apps.monitoring.alerts.models import AlertRule, WebhookChannel

SECRET = "a-webhook-secret-0123456789"


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver: answers `status` to every POST and keeps what it got."""

    url: str = ""
    status: int = 200
    requests: list[Received] = field(default_factory=list)

    def events(self) -> list[str]:
        return [request.json()["event"] for request in self.requests]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            self.send_response(receiver.status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if receiver.status < 400 else b"receiver says no")

        def log_message(self, *args: Any) -> None:  # keep the test output clean
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP server in a thread, on a free port of 127.0.0.1."""
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/resync"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def no_default_rules(db) -> None:
    """Only the rules a test makes are evaluated (the migration's defaults go)."""
    AlertRule.objects.all().delete()


@pytest.fixture
def channel(receiver, db) -> WebhookChannel:
    """An enabled webhook channel pointing at the receiver."""
    return WebhookChannel.objects.create(name="ops-hook", url=receiver.url, secret=SECRET)


def make_rule(**values: Any) -> AlertRule:
    """A rule with sane defaults for tests (no cooldown unless given)."""
    defaults = {
        "name": "test rule",
        "metric": "jobs_in_error",
        "comparison": ">",
        "threshold": 0.0,
        "severity": "warning",
        "cooldown_s": 0,
    }
    return AlertRule.objects.create(**{**defaults, **values})
