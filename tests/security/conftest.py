"""Security fixtures: API keys, and the audit rows tests look for."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.monitoring.models import AuditEvent
from apps.security.api_keys.services import api_key_create
from apps.security.scopes import SCOPES


@pytest.fixture
def issue_key():
    """issue_key(owner, scopes=..., **kwargs) -> (ApiKey, key text)."""

    def issue(owner, scopes=SCOPES, **kwargs):
        kwargs.setdefault("name", "integration")
        return api_key_create(owner=owner, scopes=scopes, actor=None, source="command", **kwargs)

    return issue


def key_client(key: str, **extra) -> APIClient:
    client = APIClient(**extra)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def audit_rows(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))
