"""Give the C heap's freed pages back to the operating system after a large parse.

Parsing a 100k-rule ruleset or a 200k-line journal allocates and frees large hash tables and
lists (memo caches, split lines). glibc keeps that freed memory in the process, fragmented between
live blocks, and Python's object allocator cannot reuse it: measured on the benchmark's large node,
~28 MB of iptables-save's resident memory was free heap. `malloc_trim(0)` returns every free page
(a few milliseconds). Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # musl and other libcs have no malloc_trim
        return None
    return trim


def release_freed_memory() -> None:
    """Return freed heap pages to the OS (glibc only; a no-op elsewhere)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
