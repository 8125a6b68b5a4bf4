"""Writing a lazy (dask) raster block by block, so memory is bounded by the chunk size
and not by the area or the number of dates: no process ever holds the whole result.

A writer hands :func:`store_blocks` the lazy array and a ``write(index, block)`` that
puts one computed block (``index``: one slice per dimension) into the open file. Who
computes the blocks is the engine's choice, set for a block with :func:`block_store`:
dask's threads by default (``dask.array.store``: each block is written as soon as it is
computed, under a lock), or a Dask cluster whose workers compute the blocks while the
client writes them as they arrive (:mod:`hybrid.backends.local.compute`).

A writer may also hand an ``encode(index, block)`` (picklable): it runs where a block is
computed - in dask's threads, not under the write lock, or on a cluster's worker - and
``write`` then gets what it returns instead of the block, and must be safe to call from
several threads at once (the NetCDF writer deflates its chunks this way:
:mod:`hybrid.io.netcdf_chunks`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

#: put one computed block at ``index`` (a slice per dimension) into the file
WriteBlock = Callable[[tuple[slice, ...], Any], None]
#: turn a computed block at ``index`` into what ``write`` takes, where it was computed
Encode = Callable[[tuple[slice, ...], Any], Any]
#: compute every block of a dask array and hand each to ``write`` (``store(array,
#: write, encode=None)``; with ``encode``, its result instead of the block)
Store = Callable[..., None]

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


def store_blocks(array: Any, write: WriteBlock, *, encode: Encode | None = None) -> None:
    """Compute ``array`` block by block, handing each block (or what ``encode`` made of
    it where it was computed) to ``write``."""
    (_STORE.get() or threaded_store)(array, write, encode=encode)


#: the most one block of a group of bands stored together may hold (see :func:`store_bands`)
BAND_GROUP_BYTES = 128 * 2**20


def band_groups(array: Any, axis: int, budget: int = BAND_GROUP_BYTES) -> list[range]:
    """The bands of ``array`` (along ``axis``) in runs whose blocks, all the run's bands
    together, hold at most ``budget`` bytes (at least one band a run)."""
    import math

    others = [max(sizes) for at, sizes in enumerate(array.chunks) if at != axis]
    per_band = max(1, array.dtype.itemsize * math.prod(others))
    size = max(1, budget // per_band)
    count = array.shape[axis]
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


def store_bands(
    array: Any,
    axis: int,
    writers: Sequence[WriteBlock],
    encoders: Sequence[Encode] | None = None,
) -> None:
    """Store a lazy array with a bands ``axis`` into one ``write(index, block)`` per band
    (``index`` without that axis), a run of bands (:func:`band_groups`) in one pass:
    what the bands share (a cloud mask applied to each, a band maths or an
    apply_dimension over bands that makes them all in one block) is computed once per
    block, not once per band as a store per band did (a 70-band apply_dimension over t
    computed its whole graph 70 times). ``encoders``: one per band, run where a block
    is computed (:func:`store_blocks`)."""
    for group in band_groups(array, axis):
        index = (slice(None),) * axis + (slice(group.start, group.stop),)
        part = array[index].rechunk({axis: -1})
        chosen = [writers[b] for b in group]
        if encoders is None:
            store_blocks(part, _BandsWriter(axis, chosen, encoded=False))
        else:
            encode = _BandsEncoder(axis, [encoders[b] for b in group])
            store_blocks(part, _BandsWriter(axis, chosen, encoded=True), encode=encode)


def _without(index: tuple[slice, ...], axis: int) -> tuple[slice, ...]:
    return index[:axis] + index[axis + 1 :]


class _BandsEncoder:
    """A block of several bands -> each band's encoded block (picklable, for workers)."""

    def __init__(self, axis: int, encoders: Sequence[Encode]) -> None:
        self.axis = axis
        self.encoders = encoders

    def __call__(self, index: tuple[slice, ...], block: Any) -> list[Any]:
        import numpy as np

        inner = _without(index, self.axis)
        return [
            encode(inner, np.take(block, at, axis=self.axis))
            for at, encode in enumerate(self.encoders)
        ]


class _BandsWriter:
    """``write(index, value)`` of a block of several bands: each band to its writer."""

    def __init__(self, axis: int, writers: Sequence[WriteBlock], *, encoded: bool) -> None:
        self.axis = axis
        self.writers = writers
        self.encoded = encoded

    def __call__(self, index: tuple[slice, ...], value: Any) -> None:
        import numpy as np

        inner = _without(index, self.axis)
        for at, write in enumerate(self.writers):
            write(inner, value[at] if self.encoded else np.take(value, at, axis=self.axis))


def encoded_blocks(array: Any, encode: Encode) -> Any:
    """A dask array of ``encode(index, block)`` of every block of ``array`` (objects,
    same chunks): computed on a cluster, the encoding happens on the workers."""
    import numpy as np

    return array.map_blocks(
        _encode_block,
        encode=encode,
        chunks_of=array.chunks,
        dtype=object,
        meta=np.empty((0,) * array.ndim, dtype=object),
    )


def _encode_block(
    block: Any, *, encode: Encode, chunks_of: tuple[tuple[int, ...], ...], block_id: Any = None
) -> Any:
    return encode(block_slices(chunks_of, tuple(block_id)), block)


#: about how many output blocks one pass of dask's threads computes (see
#: :func:`threaded_store`): 4, the blocks of a 2048^2 result, so that a batch holds as
#: much at 8192^2 as there (peak RSS of 4 dates at 2048^2 / 4096^2 / 8192^2: 595 / 661 /
#: 720 MiB; with 8: 606 / 794 / 829; with 2: 566 / 595 / 630 MiB but 10-25 % more CPU,
#: the halo at every batch edge recomputing the neighbours' cloud masks, measured before
#: a batch handed them to the next one: with 2, a row of 2048^2 is two batches, so the
#: row below is not the next batch and its masks would still be computed twice)
BATCH_BLOCKS = 4


class _Target:
    """What ``dask.array.store`` writes into: ``target[index] = block`` hands the block
    (or what ``encode`` makes of it, in the computing thread) to ``write``."""

    def __init__(
        self, write: WriteBlock, shape: tuple[int, ...], dtype: Any, encode: Encode | None
    ) -> None:
        self._write = write
        self._encode = encode
        self.shape = shape
        self.dtype = dtype
        self.ndim = len(shape)

    def __setitem__(self, index: tuple[slice, ...], block: Any) -> None:
        self._write(index, block if self._encode is None else self._encode(index, block))


def threaded_store(
    array: Any,
    write: WriteBlock,
    *,
    encode: Encode | None = None,
    batch_blocks: int = BATCH_BLOCKS,
    scheduler: str | Callable[..., Any] | None = None,
    **compute: Any,
) -> None:
    """``dask.array.store`` into ``write`` on dask's threads (one block written at a time;
    with ``encode``, encoded and written in the computing threads, ``write`` being
    thread-safe), in batches of whole rows of blocks (:func:`row_batches`), one batch
    after the other.

    One ``store`` of the whole array would leave the order to dask, which computes a
    date for the whole area before the next one when the graph links neighbouring
    blocks (a kernel's halo) and dates (a temporal reduction): memory then grows with
    the area. A batch holds only its rows. The batches run as one graph, each opened by
    a gate once the batches before it are far enough along, so that no thread waits for
    a batch's last block and no value two batches need is computed twice
    (:mod:`hybrid.io.batch_gates`).

    The store's graph is optimized (dask's array optimization) once for the whole array
    (:func:`optimized`), and each batch takes the part of it its blocks need: optimizing
    every batch's graph anew cost 0.3 s a batch at 20 x 4096^2 (16 batches), while the
    computing threads waited.
    """
    import dask
    import dask.array as da

    from hybrid.io.batch_gates import run_gated

    get = dask.base.get_scheduler(scheduler=scheduler or "threads")
    target: Any = _Target(write, tuple(array.shape), array.dtype, encode)
    lock: Any = threading.Lock() if encode is None else False
    graph, keys = optimized(da.store(array, target, lock=lock, compute=False))
    batches = [
        [block_key(keys, position) for position in positions]
        for positions in batch_positions(array.chunks, batch_blocks)
    ]
    run_gated(graph, batches, get, **compute)


def optimized(array: Any) -> tuple[dict[Any, Any], Any]:
    """The optimized task graph of the dask ``array`` as task objects (materialized also
    when dask's low-level fusion is off), and its nested list of output keys (one per
    block)."""
    import dask
    from dask._task_spec import convert_legacy_graph

    (opt,) = dask.optimize(array)
    return convert_legacy_graph(dict(opt.__dask_graph__())), opt.__dask_keys__()


def block_key(keys: Any, position: tuple[int, ...]) -> Any:
    """The key of the block at ``position`` in a nested list of keys."""
    for at in position:
        keys = keys[at]
    return keys


def row_batches(chunks: tuple[tuple[int, ...], ...], batch_blocks: int) -> list[tuple[slice, ...]]:
    """Index of each batch of an array with ``chunks``: one block of every leading axis
    (a period of a temporal aggregation reads only its own dates, so nothing is
    recomputed across them) and about ``batch_blocks`` blocks of the last two axes: whole
    rows of blocks along y (the second-to-last axis), or, when one row holds more than
    ``batch_blocks`` blocks, runs of at most that many blocks of one row (so a batch
    holds as many blocks at 8192^2 as at 2048^2). Arrays of fewer than two axes are one
    batch."""
    import itertools

    whole = tuple(slice(0, sum(sizes)) for sizes in chunks)
    if len(chunks) < 2:
        return [whole]
    y_sizes, x_sizes = chunks[-2], chunks[-1]
    rows = max(1, batch_blocks // len(x_sizes))
    runs = -(-len(x_sizes) // max(1, batch_blocks))  # runs per row
    per_run = -(-len(x_sizes) // runs)
    per_axis = [
        [block_slices((sizes,), (at,))[0] for at in range(len(sizes))] for sizes in chunks[:-2]
    ]
    out = []
    for lead in itertools.product(*per_axis):
        for first in range(0, len(y_sizes), rows):
            start = sum(y_sizes[:first])
            stop = start + sum(y_sizes[first : first + rows])
            for col in range(0, len(x_sizes), per_run):
                left = sum(x_sizes[:col])
                right = left + sum(x_sizes[col : col + per_run])
                out.append((*lead, slice(start, stop), slice(left, right)))
    return out


def batch_positions(
    chunks: tuple[tuple[int, ...], ...], batch_blocks: int = BATCH_BLOCKS
) -> list[list[tuple[int, ...]]]:
    """The block positions (block numbers) of each batch of :func:`row_batches`."""
    import itertools

    starts = [list(itertools.accumulate(sizes, initial=0))[:-1] for sizes in chunks]
    out = []
    for index in row_batches(chunks, batch_blocks):
        axes = [
            [at for at, start in enumerate(axis) if part.start <= start < part.stop]
            for axis, part in zip(starts, index, strict=True)
        ]
        out.append(list(itertools.product(*axes)))
    return out


def block_slices(
    chunks: tuple[tuple[int, ...], ...], position: tuple[int, ...]
) -> tuple[slice, ...]:
    """The index of the block at ``position`` (block numbers) of an array with ``chunks``."""
    out = []
    for sizes, at in zip(chunks, position, strict=True):
        start = sum(sizes[:at])
        out.append(slice(start, start + sizes[at]))
    return tuple(out)
