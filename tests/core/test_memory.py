"""Giving a sync's freed memory back to the system (apps/core/memory.py)."""

from __future__ import annotations

import platform

import pytest

from apps.core.memory import heap_trim


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_it_trims_the_heap_on_glibc():
    assert heap_trim() is True
