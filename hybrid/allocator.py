"""How the computing process uses glibc's allocator (a no-op where glibc is absent).

The blocks of a local run are numpy arrays of a few MiB, allocated and freed by dask's
threads thousands of times. Two settings keep that cheap and the memory flat:

- :func:`share_one_arena`: every thread allocates from one malloc arena. glibc gives
  each thread an arena of its own by default; the memory a block freed in one thread's
  arena is then not reused by the next block computed in another thread, and the
  process holds the freed memory of every arena (peak RSS grew with the batches).
- :func:`release_freed_memory`: give the memory freed during a computation back to the
  system once it has finished (``malloc_trim``), so that a long-lived process (``hybrid
  serve``) does not keep a job's peak.

The local backend does both around each computation
(``backends/local/compute.py`` ``_computing``).

Between the batches of one computation (:func:`after_batch`) the trim is made only when
asked (``HYBRID_TRIM_HEAP=1``). The threaded store computes a large raster in batches of
block rows (:mod:`hybrid.io.streaming`); each batch's arrays (1-32 MiB, under glibc's
largest mmap threshold) come from the heap, which the few values handed to the next
batch fragment, so a later batch whose arrays do not fit the holes grows it: the memory
in use stays flat, the resident size grows with the number of batches, that is with the
area (``python -m benchmarks.batch_memory 4x8192``; benchmarks/README.md, "Tenth
round"). ``malloc_trim(0)`` returns every whole free page of every arena
(``madvise(MADV_DONTNEED)``, not only the heap's top; dask's documentation recommends
the call for workers whose memory is "not released back to the OS"), but the next batch
faults those pages in again: 26-40 % more time at 30 x 2048^2 and 20 x 4096^2 for a peak
8 % lower at 4 x 8192^2 (benchmarks/README.md, "Eleventh round"), so not by default.

``MALLOC_ARENA_MAX`` in the environment wins over :func:`share_one_arena`.
"""

from __future__ import annotations

import functools
import os
from typing import Any

#: mallopt's parameter number of M_ARENA_MAX (glibc malloc.h)
_M_ARENA_MAX = -8
#: set to 1 to trim the heap after every batch of the threaded store
TRIM_ENV = "HYBRID_TRIM_HEAP"


def share_one_arena() -> None:
    """From now on, threads that allocate for the first time share glibc's main arena
    (threads that already have an arena keep it)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    mallopt = _libc_function("mallopt")
    if mallopt is not None:
        mallopt(_M_ARENA_MAX, 1)


def release_freed_memory() -> bool:
    """Return the memory the allocator holds free to the system; whether it could."""
    trim = _libc_function("malloc_trim")
    if trim is None:
        return False
    trim(0)
    return True


def after_batch() -> bool:
    """What the threaded store does after each batch: trims the heap when
    ``HYBRID_TRIM_HEAP=1``; whether it did."""
    return os.environ.get(TRIM_ENV) == "1" and release_freed_memory()


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
