"""The sharded TTL/LRU memory engine behind the Resync cache backends."""

from apps.cache.engine.cache import DEFAULT_TTL, KEY_NOT_FOUND, CleanupResult, ShardedCache
from apps.cache.engine.shard import ENTRY_OVERHEAD_BYTES, FOREVER, Shard, entry_size

__all__ = [
    "DEFAULT_TTL",
    "ENTRY_OVERHEAD_BYTES",
    "FOREVER",
    "KEY_NOT_FOUND",
    "CleanupResult",
    "Shard",
    "ShardedCache",
    "entry_size",
]
