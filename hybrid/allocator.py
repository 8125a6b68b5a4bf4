"""How the computing process uses glibc's allocator (a no-op where glibc is absent).

The blocks of a local run are numpy arrays of a few MiB, allocated and freed by dask's
threads thousands of times. Two settings keep that cheap and the memory flat:

- :func:`share_one_arena`: every thread allocates from one malloc arena. glibc gives
  each thread an arena of its own by default; the memory a block freed in one thread's
  arena is then not reused by the next block computed in another thread, and the
  process holds the freed memory of every arena (peak RSS grew with the batches).
- :func:`release_freed_memory`: give the memory freed during a computation back to the
  system once it has finished (``malloc_trim``), so that a long-lived process (``hybrid
  serve``) does not keep a job's peak. Not between the batches of one computation:
  trimming there made every batch fault its memory in again (40-100 % more page faults,
  1.3 s more system time at 20 x 4096^2: benchmarks/README.md, "Fifth round").

The local backend does both around each computation
(``backends/local/compute.py`` ``_computing``).

``MALLOC_ARENA_MAX`` in the environment wins over :func:`share_one_arena`.
"""

from __future__ import annotations

import functools
import os
from typing import Any

#: mallopt's parameter number of M_ARENA_MAX (glibc malloc.h)
_M_ARENA_MAX = -8


def share_one_arena() -> None:
    """From now on, threads that allocate for the first time share glibc's main arena
    (threads that already have an arena keep it)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    mallopt = _libc_function("mallopt")
    if mallopt is not None:
        mallopt(_M_ARENA_MAX, 1)


def release_freed_memory() -> None:
    """Return the memory the allocator holds free to the system."""
    trim = _libc_function("malloc_trim")
    if trim is not None:
        trim(0)


@functools.cache
def _libc_function(name: str) -> Any:
    import ctypes
    import ctypes.util

    library = ctypes.util.find_library("c")
    if not library:
        return None
    try:
        return getattr(ctypes.CDLL(library), name, None)
    except OSError:
        return None
