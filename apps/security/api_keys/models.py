"""API keys: djangorestframework-api-key's model, owned by a user, scoped, rotatable.

The library gives the key format (`<prefix>.<secret>`, 8 + 32 random characters, about 190
bits of secret), the stored fields (prefix, hash, name, expiry, an irreversible `revoked`)
and the header parser. Two things are changed here:

- the hash is PBKDF2-SHA256 with a password's work factor (the library uses one round of
  SHA-512), so a leaked table does not give a cheap offline test of candidate keys;
  comparison stays constant-time (Django's hasher `verify`);
- the primary key is a plain integer, not the library's `<prefix>.<hash>`, so the hash never
  appears in URLs, admin links or logs.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import models
from rest_framework_api_key.crypto import KeyGenerator
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager


class ApiKeyHasher(PBKDF2PasswordHasher):
    """PBKDF2-SHA256; iterations from RESYNC_API_KEY_HASH_ITERATIONS, else Django's default."""

    @property
    def iterations(self) -> int:
        return settings.RESYNC_API_KEY_HASH_ITERATIONS or PBKDF2PasswordHasher.iterations


class ApiKeyGenerator(KeyGenerator):
    """The library's generator with the slow hasher."""

    preferred_hasher = ApiKeyHasher()

    def using_preferred_hasher(self, hashed_key: str) -> bool:
        return hashed_key.startswith(f"{self.preferred_hasher.algorithm}$")

    def verify(self, key: str, hashed_key: str) -> bool:
        if not self.using_preferred_hasher(hashed_key):
            return False
        return self.preferred_hasher.verify(key, hashed_key)


class ApiKeyManager(BaseAPIKeyManager):
    key_generator = ApiKeyGenerator()

    def assign_key(self, obj: ApiKey) -> str:
        """Give `obj` a new prefix and hash; returns the key, which is stored nowhere."""
        key, obj.prefix, obj.hashed_key = self.key_generator.generate()
        return key


class ApiKey(AbstractAPIKey):
    """A secret an integration sends as `Authorization: Api-Key <key>`, acting as its owner."""

    id = models.BigAutoField(primary_key=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    scopes = models.JSONField(
        default=list, help_text="What the key may do (apps/security/scopes.py)."
    )
    last_used_at = models.DateTimeField(
        null=True, blank=True, help_text="Updated at most once a minute."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    rotated_from = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaced_by",
        help_text="The key this one replaced; it stays valid until its grace time.",
    )

    objects = ApiKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"
