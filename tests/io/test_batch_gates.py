"""The batches of a threaded store run as one graph: every key once (also where a row
of blocks is wider than a batch), and a batch's tasks only once its gate is open."""

from __future__ import annotations

import collections
import threading
import time

import dask
import dask.array as da
import numpy as np
import pytest
from dask.callbacks import Callback

from hybrid.io.batch_gates import gate_keys, gated
from hybrid.io.held_bits import PackedBits, packed_bits, unpacked_bits
from hybrid.io.streaming import batch_positions, block_key, optimized, threaded_store


def _counted_blocks(shape, chunks, pause=None):
    """A dask array whose blocks count how often each is computed (and log when);
    ``pause(location)``: seconds a block takes."""
    calls: collections.Counter[tuple[int, ...]] = collections.Counter()
    log: list[tuple[str, tuple[int, ...]]] = []
    lock = threading.Lock()
    values = np.random.default_rng(3).normal(size=shape)

    def block(block_info=None):
        where = block_info[None]["array-location"]
        location = tuple(block_info[None]["chunk-location"])
        with lock:
            calls[location] += 1
            log.append(("read", location))
        if pause is not None:
            time.sleep(pause(location))
        return values[tuple(slice(*w) for w in where)]

    lazy = da.map_blocks(block, chunks=da.core.normalize_chunks(chunks, shape), dtype="float64")
    return lazy, values, calls, log


def _smoothed(array):
    return array.map_overlap(
        lambda b: b + np.roll(b, 1, axis=-1) + np.roll(b, 1, axis=-2), depth=(0, 2, 2)
    )


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
@pytest.mark.parametrize("shape", [(2, 12, 10), (2, 12, 15)])
def test_a_halo_computes_each_input_block_once(scheduler, shape):
    """(2, 12, 15) in (1, 4, 5) blocks with batches of 2 blocks: a row of 3 blocks is two
    batches, so the row below is not the next batch (batches run one after the other,
    each handing the next what it shares, computed the first row's blocks twice)."""
    lazy, values, calls, _ = _counted_blocks(shape, (1, 4, 5))
    smoothed = _smoothed(lazy)
    want = _smoothed(da.from_array(values, chunks=(1, 4, 5))).compute()
    out = np.full(values.shape, np.nan)

    def write(index, block):
        out[index] = block

    threaded_store(smoothed, write, batch_blocks=2, scheduler=scheduler)
    np.testing.assert_array_equal(out, want)
    assert len(calls) == lazy.npartitions
    assert set(calls.values()) == {1}


def test_a_batch_starts_only_once_its_gate_is_open():
    """Rows of 4 blocks, a batch each, on 4 threads; the first block is slow. A
    row's blocks are read only after all but one of the row above and all of the row
    before that are written, so at most two rows are in memory (one ``get`` of the whole store
    would have read the later rows while the first was still sleeping)."""
    slow_first = lambda at: 0.1 * (at[1:] == (0, 0))  # noqa: E731
    lazy, _, _, log = _counted_blocks((1, 40, 16), (1, 4, 4), pause=slow_first)

    def write(index, block):
        log.append(("write", (0, index[1].start // 4, index[2].start // 4)))

    threaded_store(lazy * 2, write, batch_blocks=4, scheduler="threads", num_workers=4)
    seen_rows = collections.Counter()
    for event, (_, row, _) in log:
        if event == "write":
            seen_rows[row] += 1
        elif row >= 1:
            assert seen_rows[row - 1] >= 3, (row, dict(seen_rows))
            assert row < 2 or seen_rows[row - 2] == 4, (row, dict(seen_rows))
    assert sum(seen_rows.values()) == lazy.npartitions


def test_a_gate_waits_for_the_batch_before_but_its_last_block_and_the_one_before_that():
    batches = [[1, 2, 3, 4], [5, 6, 7], [8], [9, 10]]
    gates = [gate_keys(batches, n) for n in range(4)]
    assert gates == [[], [1, 2, 3], [1, 2, 3, 4, 5, 6], [5, 6, 7]]


def test_gates_make_one_graph_with_every_key_once():
    lazy, values, calls, _ = _counted_blocks((1, 20, 4), (1, 4, 4))
    smoothed = _smoothed(lazy)
    out = np.full(values.shape, np.nan)
    graph, keys = optimized(da.store(smoothed, out, lock=False, compute=False))
    batches = [[keys[0][row][0]] for row in range(5)]
    plan = gated(graph, batches)
    assert [key for key in plan if key[0] == "hybrid-batch-gate"] == [
        ("hybrid-batch-gate", n) for n in range(1, 5)
    ]
    assert gate_keys(batches, 1) == []  # batches of one block: batch 1 may start at once
    dask.get(plan, [k for b in batches for k in b])
    np.testing.assert_array_equal(out, _smoothed(da.from_array(values, chunks=(1, 4, 4))).compute())
    assert set(calls.values()) == {1} and len(calls) == 5


def _cloudy_rows(shape=(2, 12, 15), chunks=(1, 4, 5)):
    """A boolean mask smoothed with a halo (the shape of the cloud mask's dilation):
    each row's blocks read the masks of the row below, made in an earlier batch."""
    values = np.random.default_rng(5).normal(size=shape) > 0.6
    mask = da.from_array(values, chunks=chunks) | False  # a task of its own per block
    smoothed = mask.map_overlap(
        lambda b: b.astype("float32") + np.roll(b, 1, axis=-2), depth=(0, 2, 2), dtype="float32"
    )
    return mask, smoothed


def test_a_boolean_value_a_later_batch_reads_is_held_as_bits():
    """The masks a batch makes for the next row's halo are held packed (an eighth of the
    bytes) until that row's batch reads them, and the result is the same. Four rows of
    one block, two rows a batch: the masks of rows 1 and 2 cross the gate (row 2's is
    made for row 1's halo, row 1's is read by row 2's), those of rows 0 and 3 do not."""
    mask, smoothed = _cloudy_rows(shape=(2, 16, 5))
    want = smoothed.compute(scheduler="synchronous")
    out = np.full(smoothed.shape, np.nan, dtype="float32")
    graph, keys = optimized(da.store(smoothed, out, lock=False, compute=False))
    batches = [
        [block_key(keys, p) for p in positions] for positions in batch_positions(smoothed.chunks, 2)
    ]
    values: dict[object, object] = {}

    def keep(key, result, dsk, state, worker_id):
        values[key] = result

    with Callback(posttask=keep):
        dask.get(gated(graph, batches), [k for batch in batches for k in batch])
    np.testing.assert_array_equal(out, want)
    masks = {k: v for k, v in values.items() if k[0].startswith(mask.name)}
    packed = [v for v in masks.values() if isinstance(v, PackedBits)]
    assert packed, "no mask crossed a gate"
    assert all(v.nbytes <= -(-int(np.prod(v.shape)) // 8) for v in packed)
    assert len(packed) < len(masks)  # a mask only its own batch reads stays as it is
    assert {k[2] for k, v in masks.items() if isinstance(v, PackedBits)} == {1, 2}
    assert all(v.dtype == bool for v in masks.values() if not isinstance(v, PackedBits))


def test_values_held_as_bits_unpack_to_the_same_array():
    rng = np.random.default_rng(1)
    for shape in [(1, 3, 5), (7,), (4, 9, 11)]:
        mask = rng.normal(size=shape) > 0
        bits = packed_bits(mask)
        assert isinstance(bits, PackedBits)
        np.testing.assert_array_equal(unpacked_bits(bits), mask)
        assert unpacked_bits(bits).dtype == bool
    floats = rng.normal(size=(3, 4))
    assert packed_bits(floats) is floats and unpacked_bits(floats) is floats


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_a_store_with_masks_across_batches_writes_what_dask_computes(scheduler):
    _, smoothed = _cloudy_rows(shape=(2, 20, 25))
    want = smoothed.compute(scheduler="synchronous")
    out = np.full(smoothed.shape, np.nan, dtype="float32")

    def write(index, block):
        out[index] = block

    threaded_store(smoothed, write, batch_blocks=2, scheduler=scheduler)
    np.testing.assert_array_equal(out, want)


def test_an_alias_of_a_value_held_as_bits_passes_it_on_unpacked():
    """A node that only passes a held value on (dask's ``Alias``) unpacks it too, so its
    readers get the boolean array."""
    from dask._task_spec import Alias, Task, TaskRef

    from hybrid.io.held_bits import held_as_bits

    mask = np.array([[True, False, True]])
    graph = {
        "mask": Task("mask", np.copy, mask),
        "alias": Alias("alias", "mask"),
        "count": Task("count", np.sum, TaskRef("alias")),
    }
    packed = held_as_bits(graph, {"mask"}, {"mask"})
    assert dask.get(packed, "count") == 2
    assert isinstance(dask.get(packed, "mask"), PackedBits)
    np.testing.assert_array_equal(dask.get(packed, "alias"), mask)
