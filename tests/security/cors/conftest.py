"""CORS fixtures: rows made through the service, and this process's allow-list put back."""

from __future__ import annotations

import pytest

from apps.core.config_versions import watcher
from apps.security.cors.allowlist import cors_allowlist_forget, cors_allowlist_reload
from apps.security.cors.services import cors_origin_create

LISTED = "https://ops.example.com"
DISABLED = "https://old.example.com"
UNLISTED = "https://evil.example.net"


@pytest.fixture(autouse=True)
def _fresh_allowlist():
    # The allow-list lives for the whole test process: start and end each test without one.
    cors_allowlist_forget()
    yield
    cors_allowlist_forget()
    watcher.reset()


@pytest.fixture
def origins(db) -> dict[str, int]:
    """One enabled and one disabled row, loaded into this process's allow-list."""
    rows = {
        origin: cors_origin_create(
            values={"origin": origin, "enabled": origin == LISTED}, actor=None, source="test"
        ).pk
        for origin in (LISTED, DISABLED)
    }
    cors_allowlist_reload()
    return rows
