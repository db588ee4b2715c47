"""Writes of the HWA connection settings, and the process-wide client built from them.

Saving goes through `hwa_connection_save`: it validates, encrypts the password (the field
does), bumps the row's version and the "hwa" config version, and audits the change without
the password's value. A change that would send the stored password somewhere new (another
base URL, or the TLS check turned off) needs the password entered again in the same change:
whoever may edit the connection but was never shown its password cannot redirect it.

Every process keeps one `HwaClient` (one connection pool, one breaker) built from the
"default" row; the "hwa" watcher callback reconfigures it in place
when the row changed, so a new base URL or timeout applies within a second everywhere.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.config_versions import config_version_bump
from apps.core.errors import ServiceUnavailableError
from apps.core.hwa.client import HwaClient, HwaClientSettings
from apps.core.hwa.types import ConnectionCheck
from apps.core.models import HwaConnection
from apps.core.models.hwa import DEFAULT_CONNECTION, EDITABLE_FIELDS
from apps.core.pools.hwa_http import track_client
from apps.core.selectors.pools import hwa_http_pool_limits
from apps.monitoring.services import audit_record
from apps.security.crypto import SecretUnreadableError, plaintext

CONFIG_AREA = "hwa"
NOT_CONFIGURED = "No HWA connection is configured (admin: HWA connections, name 'default')"
DISABLED = "The HWA connection is disabled"
PASSWORD_CHANGED = "password changed"  # noqa: S105 (an audit note, not a password)
PASSWORD_REENTERED = "password entered again"  # noqa: S105 (an audit note, not a password)
REDIRECT_NEEDS_REENTRY = (
    "Enter the HWA password again to change the base URL or turn off the TLS check: "
    "the stored password would otherwise be sent where nobody who knows it has agreed."
)


def _snapshot(connection: HwaConnection | None) -> dict[str, Any]:
    if connection is None:
        return {}
    return {field: getattr(connection, field) for field in EDITABLE_FIELDS}


def redirecting_changes(stored: HwaConnection | None, *, base_url: str, verify_tls: bool) -> list:
    """The changes that would send the stored password somewhere new ([] for a new row)."""
    if stored is None:
        return []
    changes = []
    if base_url != stored.base_url:
        changes.append("base_url")
    if stored.verify_tls and not verify_tls:
        changes.append("verify_tls")
    return changes


def _password_note(before_row: HwaConnection | None, password: str | None) -> str:
    if password is None:
        return ""
    changed = before_row is None or before_row.password != password
    return PASSWORD_CHANGED if changed else PASSWORD_REENTERED


@transaction.atomic
def hwa_connection_save(
    *,
    connection: HwaConnection,
    actor: Any,
    source: str,
    password: str | None = None,
) -> HwaConnection:
    """Validate and save the connection (a new `password` replaces the stored one).

    Changing the base URL or turning off the TLS check needs `password` (ValidationError).
    """
    before_row = HwaConnection.objects.filter(pk=connection.pk).first() if connection.pk else None
    redirects = redirecting_changes(
        before_row, base_url=connection.base_url, verify_tls=connection.verify_tls
    )
    if redirects and password is None:
        raise ValidationError({"password": [REDIRECT_NEEDS_REENTRY]})
    if password is not None:
        connection.password = password
    connection.full_clean()
    connection.updated_at = timezone.now()
    connection.save()
    HwaConnection.objects.filter(pk=connection.pk).update(version=F("version") + 1)
    connection.refresh_from_db(fields=["version"])
    before, after = _snapshot(before_row), _snapshot(connection)
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    audit_record(
        actor=actor,
        source=source,
        action="hwa_connection.create" if before_row is None else "hwa_connection.update",
        target=f"hwa_connection:{connection.name}",
        before={k: before.get(k) for k in changed} or None,
        after=changed or None,
        detail=_password_note(before_row, password),
    )
    config_version_bump(CONFIG_AREA)
    transaction.on_commit(client_invalidate)
    return connection


def client_settings(connection: HwaConnection, **overrides: Any) -> HwaClientSettings:
    """The client settings a connection row stands for (SecretUnreadableError if its
    password cannot be decrypted with the configured keys)."""
    what = f"The password of HWA connection {connection.name!r}"
    return HwaClientSettings(
        base_url=connection.base_url,
        username=connection.username,
        password=plaintext(connection.password, what=what),
        verify_tls=connection.verify_tls,
        connect_timeout=connection.connect_timeout,
        read_timeout=connection.read_timeout,
        page_size=connection.page_size,
        flavour=connection.flavour,
        **overrides,
    )


def hwa_connection_get() -> HwaConnection | None:
    """The connection in use (the "default" row), or None."""
    return HwaConnection.objects.filter(name=DEFAULT_CONNECTION).first()


def hwa_connection_test(*, connection: HwaConnection) -> ConnectionCheck:
    """One un-retried call with the row's SAVED settings: ok, or the exact failure text.

    Read back from the database, so unsaved edits to `connection` can never send the stored
    password to another address.
    """
    saved = HwaConnection.objects.get(pk=connection.pk)
    try:
        settings = client_settings(saved, max_retries=0)
    except SecretUnreadableError as exc:
        return ConnectionCheck(ok=False, detail=str(exc))
    with HwaClient(settings) as client:
        return client.test_connection()


class _ClientHolder:
    """The process-wide client, keyed by the row's (pk, version); rebuilt when it moves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: HwaClient | None = None
        self._key: tuple[int, int] | None = None
        self._stale = True

    def get(self) -> HwaClient:
        with self._lock:
            if self._client is not None and not self._stale:
                return self._client
            connection = hwa_connection_get()
            if connection is None:
                raise ServiceUnavailableError(NOT_CONFIGURED, retry_after=60)
            if not connection.enabled:
                raise ServiceUnavailableError(DISABLED, retry_after=60)
            # The connection row owns where and how long; the hwa_http pool row owns how
            # many connections and how long to wait for one. Either moving rebuilds.
            limits = hwa_http_pool_limits()
            key = (connection.pk, connection.version, tuple(sorted(limits.items())))
            if self._client is None:
                self._client = HwaClient(client_settings(connection, **limits))
            elif key != self._key:
                self._client.reconfigure(client_settings(connection, **limits))
            track_client(self._client.http_client)
            self._key, self._stale = key, False
            return self._client

    def peek(self) -> HwaClient | None:
        """The client if one was built in this process (health reads its breaker)."""
        return self._client

    def invalidate(self, _version: int | None = None) -> None:
        with self._lock:
            self._stale = True

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client, self._key, self._stale = None, None, True


_holder = _ClientHolder()


def hwa_client() -> HwaClient:
    """The process-wide HWA client for the "default" connection (503 if there is none)."""
    return _holder.get()


def hwa_client_peek() -> HwaClient | None:
    return _holder.peek()


def client_invalidate(version: int | None = None) -> None:
    """Re-read the connection row at next use (the "hwa" config watcher calls this)."""
    _holder.invalidate(version)


def client_pool_changed(limits: dict[str, Any]) -> None:
    """The hwa_http pool row changed: rebuild the client's pool at next use."""
    _holder.invalidate()


def client_close() -> None:
    """Close and forget the process-wide client (tests, shutdown)."""
    _holder.close()
