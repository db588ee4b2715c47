"""Stateful property tests of the engine's invariants under random operations."""

from __future__ import annotations

from collections import OrderedDict

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from apps.cache.engine import ENTRY_OVERHEAD_BYTES, ShardedCache, entry_size
from tests.cache.conftest import FakeClock

KEYS = st.sampled_from([f"k{i}" for i in range(12)])
VALUES = st.one_of(st.integers(), st.text(max_size=300), st.binary(max_size=600))
TTLS = st.one_of(st.none(), st.integers(min_value=1, max_value=20))


class EngineMachine(RuleBasedStateMachine):
    """Random operations on a small engine, checked against the invariants."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.engine = ShardedCache(
            ttl_seconds=10,
            max_entries=6,
            max_memory_bytes=3 * (ENTRY_OVERHEAD_BYTES + 400),
            num_shards=3,
            clock=self.clock,
            start_cleaner=False,
        )
        # The deadline each key was last given, to tell expired from live.
        self.deadlines: dict[str, float] = {}

    # --- operations --------------------------------------------------------------------
    @rule(key=KEYS, value=VALUES, ttl=TTLS)
    def set(self, key: str, value: object, ttl: int | None) -> None:
        order_before = self._lru_orders()
        if self.engine.set(key, value, ttl):
            self.deadlines[key] = float("inf") if ttl is None else self.clock.now + ttl
            assert self.engine._shard(key).data.get(key) is not None
        self._check_evictions_were_lru(order_before, key)

    @rule(key=KEYS)
    def get(self, key: str) -> None:
        value = self.engine.get(key, None)
        if value is not None:
            assert self.deadlines[key] > self.clock.now, "an expired entry was returned"
            assert next(reversed(self.engine._shard(key).data)) == key

    @rule(key=KEYS)
    def delete(self, key: str) -> None:
        self.engine.delete(key)
        assert self.engine.get(key) is None

    @rule(key=KEYS, ttl=st.integers(min_value=1, max_value=20))
    def touch(self, key: str, ttl: int) -> None:
        if self.engine.touch(key, ttl):
            self.deadlines[key] = self.clock.now + ttl

    @rule(seconds=st.integers(min_value=0, max_value=8))
    def advance(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @rule(max_items=st.integers(min_value=1, max_value=5))
    def cleanup(self, max_items: int) -> None:
        self.engine.cleanup(max_items)

    @rule(
        max_entries=st.integers(min_value=1, max_value=12),
        memory=st.integers(min_value=ENTRY_OVERHEAD_BYTES, max_value=6000),
        num_shards=st.integers(min_value=1, max_value=5),
    )
    def reconfigure(self, max_entries: int, memory: int, num_shards: int) -> None:
        live_before = self._live_keys()
        self.engine.reconfigure(
            max_entries=max_entries, max_memory_bytes=memory, num_shards=num_shards
        )
        # Entries may be evicted to fit, but nothing appears and nothing dead comes back.
        assert self._live_keys() <= live_before

    @precondition(lambda self: len(self.engine) > 0)
    @rule()
    def clear(self) -> None:
        self.engine.clear()
        assert len(self.engine) == 0

    # --- invariants --------------------------------------------------------------------
    @invariant()
    def bytes_equal_the_sum_of_stored_sizes(self) -> None:
        for shard in self.engine._topology[0]:
            stored = sum(entry_size(key, entry[0]) for key, entry in shard.data.items())
            assert shard.bytes == stored

    @invariant()
    def never_above_either_bound(self) -> None:
        for shard in self.engine._topology[0]:
            assert len(shard.data) <= shard.max_entries
            assert shard.bytes <= shard.max_bytes

    @invariant()
    def deadlines_are_the_ones_given(self) -> None:
        for shard in self.engine._topology[0]:
            for key, (_, expires_at, _) in shard.data.items():
                assert expires_at == self.deadlines[key]

    # --- helpers -----------------------------------------------------------------------
    def _lru_orders(self) -> list[list[str]]:
        return [list(shard.data) for shard in self.engine._topology[0]]

    def _live_keys(self) -> set[str]:
        return {
            key
            for shard in self.engine._topology[0]
            for key, (_, expires_at, _) in shard.data.items()
            if expires_at > self.clock.now
        }

    def _check_evictions_were_lru(self, before: list[list[str]], written: str) -> None:
        """Keys a write evicted from its shard were that shard's least recently used."""
        index = self.engine._topology[0].index(self.engine._shard(written))
        after = OrderedDict.fromkeys(self.engine._topology[0][index].data)
        survivors = [key for key in before[index] if key != written]
        evicted = [key for key in survivors if key not in after]
        assert survivors[: len(evicted)] == evicted, "evicted entries were not the oldest"


EngineMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)
TestEngineInvariants = EngineMachine.TestCase
