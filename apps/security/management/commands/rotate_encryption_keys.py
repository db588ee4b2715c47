"""manage.py rotate_encryption_keys: re-encrypt every stored secret with the newest key.

It also signs the audit log's pruning checkpoint again with the newest key, so dropping the
old key afterwards does not leave the checkpoint unverifiable.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from apps.monitoring.services import audit_checkpoint_resign, audit_record
from apps.security.crypto import SecretUnreadableError, encrypted_fields, encrypted_values_rotate


class Command(BaseCommand):
    help = "Re-encrypt every encrypted value with the newest key of RESYNC_ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        fields = ", ".join(f"{m._meta.label}.{f.name}" for m, f in encrypted_fields())
        try:
            count = encrypted_values_rotate()
        except (ImproperlyConfigured, SecretUnreadableError) as exc:
            raise CommandError(f"Nothing re-encrypted: {exc}") from None
        audit_checkpoint_resign()
        audit_record(
            actor=None,
            source="command",
            action="encryption_keys.rotate",
            target="encrypted-fields",
            after={"values": count},
        )
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted {count} value(s) with the newest key ({fields}).")
        )
