"""Giving memory back to the system after big, occasional work (a plan sync).

CPython frees the many small objects of a sync into its own pools and glibc's heap, which
keep the pages: a sync loop's RSS stayed at its peak between runs (~20 MB above what it
still uses after a re-sync of 100,000 jobs). glibc's malloc_trim returns the free pages
(about 1 ms); elsewhere (musl, macOS) there is nothing to call and nothing is done.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc; musl has none (AttributeError)
    except (OSError, AttributeError):
        return None


def heap_trim() -> bool:
    """Return the C heap's free pages to the system; False where that is not possible."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
