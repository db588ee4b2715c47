"""CORS origin writes: validated, audited with before and after, applied through the config
version, and seeded from CORS_ALLOWED_ORIGINS."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from apps.core.config_versions import watcher
from apps.core.models import ConfigVersion
from apps.security.apps import _seed_cors_origins
from apps.security.cors.allowlist import cors_allowlist
from apps.security.cors.models import ALREADY_LISTED, HAS_WILDCARD, CorsOrigin
from apps.security.cors.services import (
    CONFIG_AREA,
    FIELDS,
    SEEDED_NOTE,
    UNKNOWN_FIELD,
    cors_origin_create,
    cors_origin_delete,
    cors_origin_update,
    cors_origins_seed,
)
from tests.security.conftest import audit_rows
from tests.security.cors.conftest import DISABLED, LISTED

pytestmark = pytest.mark.django_db


def cors_version() -> int:
    row = ConfigVersion.objects.filter(name=CONFIG_AREA).first()
    return row.version if row else 0


def test_adding_an_origin_is_audited_and_moves_the_config_version(admin_user):
    before = cors_version()
    row = cors_origin_create(
        values={"origin": "HTTPS://Ops.Example.com", "note": "ops console"},
        actor=admin_user,
        source="api",
    )
    assert row.origin == LISTED
    assert cors_version() == before + 1
    [event] = audit_rows("cors_origin.create")
    assert (event.actor, event.source, event.target) == (admin_user, "api", f"cors_origin:{LISTED}")
    assert event.before is None
    assert event.after == {"origin": LISTED, "enabled": True, "note": "ops console"}


def test_a_change_is_audited_with_before_and_after(origins, admin_user):
    row = CorsOrigin.objects.get(origin=LISTED)
    version = cors_version()
    cors_origin_update(cors_origin=row, values={"enabled": False}, actor=admin_user, source="admin")
    [event] = audit_rows("cors_origin.update")
    assert event.before == {"origin": LISTED, "enabled": True, "note": ""}
    assert event.after == {"origin": LISTED, "enabled": False, "note": ""}
    assert cors_version() == version + 1


def test_saving_the_same_values_records_nothing(origins, admin_user):
    row = CorsOrigin.objects.get(origin=LISTED)
    version = cors_version()
    cors_origin_update(
        cors_origin=row, values={"origin": "https://OPS.example.com:443"}, actor=None, source="api"
    )
    assert audit_rows("cors_origin.update") == []
    assert cors_version() == version


def test_a_bad_value_saves_nothing(origins):
    row = CorsOrigin.objects.get(origin=LISTED)
    with pytest.raises(ValidationError) as info:
        cors_origin_update(
            cors_origin=row, values={"origin": "https://*.example.com"}, actor=None, source="api"
        )
    assert info.value.message_dict == {"origin": [HAS_WILDCARD]}
    assert CorsOrigin.objects.get(pk=row.pk).origin == LISTED
    assert audit_rows("cors_origin.update") == []


def test_an_unknown_field_is_refused_by_name():
    with pytest.raises(ValidationError) as info:
        cors_origin_create(values={"origin": LISTED, "allow": True}, actor=None, source="api")
    assert info.value.message_dict == {
        "allow": [UNKNOWN_FIELD.format(field="allow", known=", ".join(FIELDS))]
    }


def test_deleting_is_audited_with_what_was_there(origins, admin_user):
    row = CorsOrigin.objects.get(origin=DISABLED)
    cors_origin_delete(cors_origin=row, actor=admin_user, source="api")
    [event] = audit_rows("cors_origin.delete")
    assert event.before == {"origin": DISABLED, "enabled": False, "note": ""}
    assert event.after is None
    assert not CorsOrigin.objects.filter(origin=DISABLED).exists()


def test_the_watcher_reloads_this_process_allow_list_after_a_change(origins):
    assert cors_allowlist() == {LISTED}
    row = CorsOrigin.objects.get(origin=DISABLED)
    cors_origin_update(cors_origin=row, values={"enabled": True}, actor=None, source="api")
    watcher.reset()
    watcher.poll(force=True)
    assert cors_allowlist() == {LISTED, DISABLED}


def test_seeding_adds_only_the_missing_origins_and_leaves_the_others_as_they_are(origins):
    created = cors_origins_seed(
        origins=["https://OPS.example.com", DISABLED, "https://new.example.com", "nonsense"]
    )
    assert [row.origin for row in created] == ["https://new.example.com"]
    assert created[0].note == SEEDED_NOTE
    assert not CorsOrigin.objects.get(origin=DISABLED).enabled  # an administrator's choice
    assert [event.source for event in audit_rows("cors_origin.create")][-1] == "migrate"
    assert cors_origins_seed(origins=["https://new.example.com"]) == []


def test_migrate_seeds_from_the_environment_variable():
    with override_settings(RESYNC_CORS_SEED_ORIGINS=["https://ci.example.com:8443"]):
        _seed_cors_origins()
    assert CorsOrigin.objects.get().origin == "https://ci.example.com:8443"


def test_the_same_origin_added_at_the_same_moment_elsewhere_is_a_field_error(origins, monkeypatch):
    # Both requests pass the uniqueness check before either saves; the database decides.
    monkeypatch.setattr(CorsOrigin, "validate_unique", lambda self, exclude=None: None)
    with pytest.raises(ValidationError) as info:
        cors_origin_create(values={"origin": LISTED}, actor=None, source="api")
    assert info.value.message_dict == {"origin": [ALREADY_LISTED]}
    assert CorsOrigin.objects.filter(origin=LISTED).count() == 1
