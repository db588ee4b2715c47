"""Runtime configuration bookkeeping shared by every live-editable setting."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ConfigVersion(models.Model):
    """A counter per configuration area ("pools", "cache"), bumped on every change."""

    name = models.CharField(max_length=64, primary_key=True)
    version = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
