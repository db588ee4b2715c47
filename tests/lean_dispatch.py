"""Asking a request both ways: through the lean dispatch (apps.core.api.base.LeanDispatchMixin)
and through DRF's own dispatch, with the same request id, to compare the two answers."""

from __future__ import annotations

from apps.core.api.base import LeanDispatchMixin

REQUEST_ID = "lean-dispatch-test"


def both_paths(monkeypatch, client, url: str, **extra):
    """(lean dispatch's answer, DRF dispatch's answer) to the same request."""
    extra.setdefault("HTTP_X_REQUEST_ID", REQUEST_ID)
    lean = client.get(url, **extra)
    with monkeypatch.context() as patch:
        # Every lean path asks lean_eligible first: switched off, DRF's dispatch answers.
        patch.setattr(LeanDispatchMixin, "lean_eligible", lambda self, request, kwargs: False)
        drf = client.get(url, **extra)
    return lean, drf


def assert_same(lean, drf) -> None:
    assert lean.status_code == drf.status_code
    assert lean.content == drf.content
    assert dict(lean.headers) == dict(drf.headers)
