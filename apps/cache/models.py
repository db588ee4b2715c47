"""Cache models: the live-editable settings of the default cache."""

from __future__ import annotations

import os

from django.core.exceptions import ValidationError
from django.db import models

MIB = 1024 * 1024
# The memory tier may take at most this share of the machine's RAM, per process.
MAX_RAM_FRACTION = 0.5
# A shard needs room for a few entries: below this its byte budget rejects most values.
MIN_SHARD_BYTES = 64 * 1024

OUT_OF_RANGE = "Must be between {low:,} and {high:,}."
TOO_MUCH_MEMORY = "Must be at most {high:,} MB ({percent:.0%} of this machine's {ram:,} MB RAM)."
FEWER_ENTRIES_THAN_SHARDS = "Must be at least num_shards ({shards}): each shard holds one entry."
SHARDS_TOO_SMALL = "Gives each shard under {minimum} KiB; use fewer shards or more memory."

# field: (lowest, highest) accepted; max_memory_mb's ceiling is also capped by RAM.
RANGES = {
    "ttl_seconds": (1, 7 * 24 * 3600),
    "cleanup_interval": (1, 3600),
    "max_memory_mb": (1, 1024 * 1024),
    "max_entries": (1, 100_000_000),
    "num_shards": (1, 256),
}
FIELDS = tuple(RANGES)


def ram_mb() -> int:
    """This machine's physical memory in MB."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // MIB


class CacheConfig(models.Model):
    """The default cache's live settings (one row, name "default"), applied in every process."""

    name = models.CharField(max_length=32, unique=True, default="default", editable=False)
    ttl_seconds = models.PositiveIntegerField(
        default=60,
        help_text="Default time to live of a cached entry, in seconds (1 to 604,800). "
        "API reads stay correct with a long TTL: a plan sync that changes data moves them "
        "to new keys.",
    )
    cleanup_interval = models.PositiveIntegerField(
        default=30,
        help_text="Seconds between background passes that remove expired entries (1 to 3,600).",
    )
    max_memory_mb = models.PositiveIntegerField(
        default=100,
        help_text="Memory bound of the in-process tier, in MB per server process (1 to half "
        "of the machine's RAM). Shrinking it evicts least recently used entries at once.",
    )
    max_entries = models.PositiveIntegerField(
        default=100_000,
        help_text="Entry bound of the in-process tier, in entries per server process.",
    )
    num_shards = models.PositiveSmallIntegerField(
        default=16,
        help_text="Independently locked parts of the in-process tier (1 to 256); more shards "
        "mean less lock contention. Changing it moves live entries, none are dropped.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "cache configuration"

    def __str__(self) -> str:
        return f"cache:{self.name}"

    def values(self) -> dict[str, int]:
        """The five settings as a plain dict (audit, presets, API)."""
        return {field: getattr(self, field) for field in FIELDS}

    def clean(self) -> None:
        """Every rule for these settings lives here; the service calls full_clean()."""
        errors: dict[str, str] = {}
        for field, (low, high) in RANGES.items():
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                errors[field] = OUT_OF_RANGE.format(low=low, high=high)
        ram = ram_mb()
        ceiling = int(ram * MAX_RAM_FRACTION)
        if "max_memory_mb" not in errors and self.max_memory_mb > ceiling:
            errors["max_memory_mb"] = TOO_MUCH_MEMORY.format(
                high=ceiling, percent=MAX_RAM_FRACTION, ram=ram
            )
        if errors.keys() & {"max_entries", "num_shards", "max_memory_mb"}:
            raise ValidationError(errors)
        if self.max_entries < self.num_shards:
            errors["max_entries"] = FEWER_ENTRIES_THAN_SHARDS.format(shards=self.num_shards)
        if self.max_memory_mb * MIB // self.num_shards < MIN_SHARD_BYTES:
            errors["num_shards"] = SHARDS_TOO_SMALL.format(minimum=MIN_SHARD_BYTES // 1024)
        if errors:
            raise ValidationError(errors)
