"""Consecutive batches of a threaded store hand each other what they share: a halo's
neighbouring blocks are computed once, and only the next batch's needs are kept."""

from __future__ import annotations

import collections
import threading

import dask
import dask.array as da
import numpy as np
import pytest

from hybrid.io.batch_reuse import run_batches
from hybrid.io.streaming import threaded_store


def _counted_blocks(shape, chunks):
    """A dask array whose blocks count how often each is computed."""
    calls: collections.Counter[tuple[int, ...]] = collections.Counter()
    lock = threading.Lock()
    values = np.random.default_rng(3).normal(size=shape)

    def block(block_info=None):
        where = block_info[None]["array-location"]
        with lock:
            calls[tuple(block_info[None]["chunk-location"])] += 1
        return values[tuple(slice(*w) for w in where)]

    lazy = da.map_blocks(block, chunks=da.core.normalize_chunks(chunks, shape), dtype="float64")
    return lazy, values, calls


def _smoothed(array):
    return array.map_overlap(
        lambda b: b + np.roll(b, 1, axis=-1) + np.roll(b, 1, axis=-2), depth=(0, 2, 2)
    )


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_a_halo_computes_each_input_block_once(scheduler):
    lazy, values, calls = _counted_blocks((2, 12, 10), (1, 4, 5))
    smoothed = _smoothed(lazy)
    want = _smoothed(da.from_array(values, chunks=(1, 4, 5))).compute()
    out = np.full(values.shape, np.nan)

    def write(index, block):
        out[index] = block

    threaded_store(smoothed, write, batch_blocks=2, scheduler=scheduler)
    np.testing.assert_array_equal(out, want)
    assert len(calls) == lazy.npartitions
    assert set(calls.values()) == {1}  # 6 batches (a row each), no block twice


def test_a_batch_is_handed_only_what_the_next_one_needs():
    """Batch after batch down a column of blocks: each batch gets, as data, values the
    one before it computed or was handed itself, nothing older, and never a whole
    column."""
    from dask._task_spec import DataNode, convert_legacy_graph

    lazy, _, calls = _counted_blocks((1, 20, 4), (1, 4, 4))
    smoothed = _smoothed(lazy)
    store = da.store(smoothed, np.empty(smoothed.shape), lock=False, compute=False)
    (opt,) = dask.optimize(store)
    graph = convert_legacy_graph(dict(opt.__dask_graph__()))
    keys = opt.__dask_keys__()
    batches = [[keys[0][row][0]] for row in range(5)]
    handed: list[set] = []

    def get(plan, wanted):
        handed.append({key for key, node in plan.items() if isinstance(node, DataNode)})
        return dask.get(plan, wanted)

    run_batches(graph, batches, get)
    assert set(calls.values()) == {1}
    assert handed[0] == set()
    assert all(given for given in handed[1:])  # each later batch reuses its neighbour's
    # what batch i is given concerns rows i-1 .. i+1 at most: the block row in (name, t, y, x)
    for row, given in enumerate(handed):
        rows = {key[2] for key in given if isinstance(key, tuple) and len(key) == 4}
        assert rows <= {row - 1, row, row + 1}
