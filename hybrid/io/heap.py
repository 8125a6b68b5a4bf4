"""Giving the heap's free pages back to the operating system between batches, when
asked to (``HYBRID_TRIM_HEAP=1``).

The threaded store computes a large raster in batches of block rows
(:mod:`hybrid.io.streaming`). Each batch's arrays (1-32 MiB, under glibc's largest
mmap threshold) come from the malloc heap; once a batch is written they are free, but
the heap is fragmented by the few values handed to the next batch, and a later batch
whose arrays do not fit the holes grows the heap again. Nothing is held (the memory in
use between batches stays flat), yet the resident size grows with the number of batches,
that is with the area (``python -m benchmarks.batch_memory 4x8192``; benchmarks/README.md,
"Tenth round").

glibc's ``malloc_trim(0)`` returns every whole free page of every arena to the system
(``madvise(MADV_DONTNEED)``, not only the top of the heap), so a batch starts from what
is in use; dask's documentation recommends the same call for workers whose memory is
"not released back to the OS" (distributed, "Worker Memory Management"). It is not done
by default: the next batch faults those pages in again, which cost 26-40 % more time at
30 x 2048^2 and 20 x 4096^2 for a peak 8 % lower at 4 x 8192^2 (benchmarks/README.md,
"Eleventh round"). Elsewhere than Linux/glibc there is no such call and nothing is done.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from collections.abc import Callable

#: set to 1 to trim the heap after every batch of the threaded store
TRIM_ENV = "HYBRID_TRIM_HEAP"


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_pages() -> bool:
    """Return the malloc heap's free pages to the operating system; whether it could."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def after_batch() -> bool:
    """What the threaded store does after each batch: trims the heap when
    ``HYBRID_TRIM_HEAP=1``; whether it did."""
    return os.environ.get(TRIM_ENV) == "1" and release_free_pages()
