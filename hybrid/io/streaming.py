"""Writing a lazy (dask) raster block by block, so memory is bounded by the chunk size
and not by the area or the number of dates: no process ever holds the whole result.

A writer hands :func:`store_blocks` the lazy array and a ``write(index, block)`` that
puts one computed block (``index``: one slice per dimension) into the open file. Who
computes the blocks is the engine's choice, set for a block with :func:`block_store`:
dask's threads by default (``dask.array.store``: each block is written as soon as it is
computed, under a lock), or a Dask cluster whose workers compute the blocks while the
client writes them as they arrive (:mod:`hybrid.backends.local.compute`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

#: put one computed block at ``index`` (a slice per dimension) into the file
WriteBlock = Callable[[tuple[slice, ...], Any], None]
#: compute every block of a dask array and hand each to ``write``
Store = Callable[[Any, WriteBlock], None]

_STORE: ContextVar[Store | None] = ContextVar("hybrid_block_store", default=None)


def is_lazy(values: Any) -> bool:
    """Whether ``values`` (an xarray object's ``.data``) is a dask array."""
    return hasattr(values, "dask") and hasattr(values, "chunks")


@contextlib.contextmanager
def block_store(store: Store) -> Iterator[None]:
    """Lazy rasters written inside the block are computed by ``store``."""
    token = _STORE.set(store)
    try:
        yield
    finally:
        _STORE.reset(token)


def store_blocks(array: Any, write: WriteBlock) -> None:
    """Compute ``array`` block by block, handing each block to ``write``."""
    (_STORE.get() or threaded_store)(array, write)


class _Target:
    """What ``dask.array.store`` writes into: ``target[index] = block``."""

    def __init__(self, write: WriteBlock, shape: tuple[int, ...], dtype: Any) -> None:
        self._write = write
        self.shape = shape
        self.dtype = dtype
        self.ndim = len(shape)

    def __setitem__(self, index: tuple[slice, ...], block: Any) -> None:
        self._write(index, block)


def threaded_store(array: Any, write: WriteBlock, **compute: Any) -> None:
    """``dask.array.store`` into ``write`` on dask's threads (one block written at a time)."""
    import dask.array as da

    target: Any = _Target(write, tuple(array.shape), array.dtype)
    da.store(array, target, lock=threading.Lock(), compute=True, **compute)


def block_slices(
    chunks: tuple[tuple[int, ...], ...], position: tuple[int, ...]
) -> tuple[slice, ...]:
    """The index of the block at ``position`` (block numbers) of an array with ``chunks``."""
    out = []
    for sizes, at in zip(chunks, position, strict=True):
        start = sum(sizes[:at])
        out.append(slice(start, start + sizes[at]))
    return tuple(out)
