"""The HWA connection row: encrypted password, key rotation, test connection, health."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection as db
from django.urls import reverse

from apps.core.hwa.errors import AUTH_REJECTED
from apps.core.hwa.simulator import SimulatorPlan, SimulatorServer
from apps.core.models import HwaConnection
from apps.core.services.hwa import (
    PASSWORD_CHANGED,
    PASSWORD_REENTERED,
    REDIRECT_NEEDS_REENTRY,
    client_close,
    hwa_client,
    hwa_connection_save,
    hwa_connection_test,
)
from apps.core.services.sync import plan_sync
from apps.monitoring.models import AuditEvent
from apps.monitoring.selectors import health_report
from tests.core.sync_fixtures import PASSWORD

pytestmark = pytest.mark.django_db


def _stored_password(connection: HwaConnection) -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT password FROM core_hwaconnection WHERE id = %s", [connection.pk])
        return cursor.fetchone()[0]


def test_the_password_is_not_stored_in_plain_text(hwa_connection) -> None:
    stored = _stored_password(hwa_connection)

    assert PASSWORD not in stored
    assert HwaConnection.objects.get().password == PASSWORD


def test_the_password_survives_a_key_rotation(hwa_connection, settings) -> None:
    old_token = _stored_password(hwa_connection)
    new_key = Fernet.generate_key().decode()
    settings.RESYNC_ENCRYPTION_KEYS = [new_key, *settings.RESYNC_ENCRYPTION_KEYS]

    call_command("rotate_encryption_keys", verbosity=0)

    settings.RESYNC_ENCRYPTION_KEYS = [new_key]  # the old key is gone now
    assert _stored_password(hwa_connection) != old_token
    assert HwaConnection.objects.get().password == PASSWORD


def test_changes_are_audited_without_the_password(hwa_connection) -> None:
    event = AuditEvent.objects.get(action="hwa_connection.create")

    assert event.detail == PASSWORD_CHANGED
    assert PASSWORD not in str(event.after)


def test_test_connection_reports_wrong_credentials(hwa_connection) -> None:
    hwa_connection_save(connection=hwa_connection, actor=None, source="system", password="wrong")

    check = hwa_connection_test(connection=hwa_connection)

    assert not check.ok
    assert AUTH_REJECTED.format(username="resync", status=401) in check.detail


def test_test_connection_succeeds_with_the_right_credentials(hwa_connection) -> None:
    assert hwa_connection_test(connection=hwa_connection).ok


def test_test_connection_reaches_only_the_saved_url(hwa_connection) -> None:
    with SimulatorServer(plan=SimulatorPlan(jobs=1, seed=1), password="other") as elsewhere:
        hwa_connection.base_url = elsewhere.base_url  # edited, never saved

        check = hwa_connection_test(connection=hwa_connection)

        assert check.ok  # it went to the saved simulator, whose password is the stored one
        assert elsewhere.request_count() == 0


def test_the_process_client_follows_a_changed_row(
    hwa_connection, django_capture_on_commit_callbacks
) -> None:
    from apps.core.services.hwa import hwa_connection_save

    first = hwa_client()
    hwa_connection.page_size = 37
    with django_capture_on_commit_callbacks(execute=True):
        hwa_connection_save(connection=hwa_connection, actor=None, source="system")

    assert hwa_client() is first
    assert first.settings.page_size == 37


@pytest.mark.django_db(transaction=True)  # checks run in threads: committed rows only
def test_health_is_degraded_when_the_last_sync_failed(hwa_connection, sim) -> None:
    sim.set_faults(wrong_credentials=True)
    plan_sync()

    component = health_report()["components"]["hwa_sync"]

    assert component["status"] == "degraded"
    assert "the last sync failed" in component["detail"]


@pytest.mark.django_db(transaction=True)  # checks run in threads: committed rows only
def test_health_is_healthy_after_a_good_sync(hwa_connection) -> None:
    plan_sync()

    assert health_report()["components"]["hwa_sync"]["status"] == "healthy"


def test_health_is_healthy_without_a_connection(db) -> None:
    assert health_report()["components"]["hwa_sync"]["status"] == "healthy"


def test_the_process_client_follows_the_hwa_http_pool_row(
    hwa_connection, django_capture_on_commit_callbacks
) -> None:
    from apps.core.config_versions import watcher
    from apps.core.selectors.pools import pool_stats
    from apps.core.services.pools import pool_config_update

    client = hwa_client()
    with django_capture_on_commit_callbacks(execute=True):
        pool_config_update(
            name="hwa_http",
            values={"max_size": 7, "connection_timeout": 4},
            actor=None,
            source="system",
        )
    watcher.poll(force=True)

    assert hwa_client() is client  # reconfigured in place, breaker kept
    assert client.settings.max_connections == 7
    assert client.settings.pool_timeout == 4
    assert client.http_client._transport._pool._max_connections == 7
    assert "size" in pool_stats()["pools"]["hwa_http"]


# --- The stored password cannot be redirected ---------------------------------------


def _saved(connection: HwaConnection) -> HwaConnection:
    return HwaConnection.objects.get(pk=connection.pk)


def test_a_new_base_url_needs_the_password_again(hwa_connection) -> None:
    hwa_connection.base_url = "https://attacker.example/twsd"

    with pytest.raises(ValidationError) as refused:
        hwa_connection_save(connection=hwa_connection, actor=None, source="system")

    assert refused.value.message_dict == {"password": [REDIRECT_NEEDS_REENTRY]}
    assert _saved(hwa_connection).base_url != "https://attacker.example/twsd"


def test_turning_off_the_tls_check_needs_the_password_again(hwa_connection) -> None:
    hwa_connection.verify_tls = False

    with pytest.raises(ValidationError):
        hwa_connection_save(connection=hwa_connection, actor=None, source="system")

    assert _saved(hwa_connection).verify_tls


def test_other_changes_need_no_password(hwa_connection) -> None:
    hwa_connection.page_size = 50
    hwa_connection.verify_tls = True  # turning it on (or leaving it) sends nothing anywhere new

    hwa_connection_save(connection=hwa_connection, actor=None, source="system")

    assert _saved(hwa_connection).page_size == 50


def test_a_redirect_with_the_password_entered_again_is_saved_and_audited(hwa_connection) -> None:
    old_url = hwa_connection.base_url
    hwa_connection.base_url = "https://hwa2.example/twsd"
    hwa_connection.verify_tls = False

    hwa_connection_save(connection=hwa_connection, actor=None, source="system", password=PASSWORD)

    event = AuditEvent.objects.filter(action="hwa_connection.update").get()
    assert event.before == {"base_url": old_url, "verify_tls": True}
    assert event.after == {"base_url": "https://hwa2.example/twsd", "verify_tls": False}
    assert event.detail == PASSWORD_REENTERED
    assert _saved(hwa_connection).password == PASSWORD


# --- A password no key can open -------------------------------------------------------


@pytest.fixture
def lost_key(hwa_connection, settings) -> str:
    """The key that encrypted the connection's password, dropped from the settings."""
    key = settings.RESYNC_ENCRYPTION_KEYS[0]
    settings.RESYNC_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    client_close()
    return key


def test_a_sync_with_the_key_gone_fails_in_one_line_naming_the_password(lost_key) -> None:
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError) as failure:
        call_command("sync_plan", stdout=out, stderr=err)

    message = str(failure.value)
    assert message.startswith("The password of HWA connection 'default' cannot be decrypted")
    assert "\n" not in message
    assert (out.getvalue(), err.getvalue()) == ("", "")


def test_test_connection_names_a_password_the_keys_cannot_open(lost_key) -> None:
    check = hwa_connection_test(connection=HwaConnection.objects.get())

    assert not check.ok
    assert check.detail.startswith("The password of HWA connection 'default' cannot be decrypted")


def test_the_admin_test_connection_action_reports_an_unreadable_password(
    lost_key, client, admin_user
) -> None:
    client.force_login(admin_user)
    data = {"action": "test_connection", "_selected_action": [HwaConnection.objects.get().pk]}

    page = client.post(reverse("admin:core_hwaconnection_changelist"), data, follow=True)

    assert page.status_code == 200
    shown = [str(m) for m in page.context["messages"]]
    assert len(shown) == 1
    assert "cannot be decrypted" in shown[0]


def test_the_admin_change_page_opens_so_the_password_can_be_entered_again(
    lost_key, client, admin_user
) -> None:
    client.force_login(admin_user)
    row = HwaConnection.objects.get()

    page = client.get(reverse("admin:core_hwaconnection_change", args=[row.pk]))

    assert page.status_code == 200
