"""The cluster's fused, placed graph (hybrid.backends.local.placement): same values as
dask's own graph, far fewer tasks, each output block's chain on its worker and only
halo slices crossing between workers."""

from __future__ import annotations

import collections
import threading
from typing import Any

import numpy as np
import pytest

da = pytest.importorskip("dask.array")


def _four_neighbours(b: np.ndarray) -> np.ndarray:
    out = np.zeros(b.shape, dtype="float32")
    out[..., 1:-1, 1:-1] = (
        b[..., :-2, 1:-1] + b[..., 2:, 1:-1] + b[..., 1:-1, :-2] + b[..., 1:-1, 2:]
    ) / 4
    return out


def _chain(halo: str = "map_overlap") -> Any:
    """A small per-pixel chain like the NDVI graph's: dates x 2 x 2 blocks, a 3x3 kernel
    with halo on a mask (dask's map_overlap or the engine's own halo mapping), a masked
    ratio, then a mean over each pair of dates."""
    from hybrid.backends.local.halo import map_with_halo

    rng = np.random.default_rng(0)
    red = da.from_array(rng.random((6, 64, 64)).astype("float32"), chunks=(1, 32, 32))
    nir = da.from_array(rng.random((6, 64, 64)).astype("float32"), chunks=(1, 32, 32))
    cloud = red > 0.9
    if halo == "map_overlap":
        smeared = cloud.astype("float32").map_overlap(
            lambda b: (b[:, :-2, 1:-1] + b[:, 2:, 1:-1] + b[:, 1:-1, :-2] + b[:, 1:-1, 2:]) / 4,
            depth=(0, 1, 1), boundary=0, trim=False, dtype="float32",
            chunks=(1, 32, 32),
        )  # fmt: skip
    else:
        smeared = map_with_halo(_four_neighbours, cloud.astype("float32"), (1, 1), "float32")
    ndvi = da.where(smeared > 0.1, np.nan, (nir - red) / (nir + red))
    return ndvi.reshape(3, 2, 64, 64).rechunk((1, 2, 32, 32)).mean(axis=1)


def _outputs(keys: Any, shape: tuple[int, ...]) -> list[Any]:
    from hybrid.io.streaming import block_key

    return [block_key(keys, p) for p in np.ndindex(*shape)]


@pytest.mark.parametrize("halo", ["map_overlap", "map_with_halo"])
def test_the_fused_graph_computes_the_same_blocks_with_far_fewer_tasks(halo):
    from dask._task_spec import execute_graph

    from hybrid.backends.local.placement import owners, plan
    from hybrid.io.streaming import optimized

    array = _chain(halo)
    graph, keys = optimized(array)
    outputs = _outputs(keys, array.numblocks)
    fused, place = plan(graph, outputs, owners(outputs, 2))
    assert len(fused) < len(graph) / 2
    assert set(place.values()) == {0, 1}
    got = execute_graph(fused, keys=set(outputs))
    want = execute_graph(graph, keys=set(outputs))
    for key in outputs:
        np.testing.assert_array_equal(got[key], want[key])


@pytest.mark.parametrize("halo", ["map_overlap", "map_with_halo"])
def test_blocks_go_to_contiguous_runs_of_workers_and_only_halo_slices_cross(halo):
    from dask._task_spec import execute_graph

    from hybrid.backends.local.placement import owners, plan
    from hybrid.io.streaming import optimized

    array = _chain(halo)
    graph, keys = optimized(array)
    outputs = _outputs(keys, array.numblocks)
    mine = owners(outputs, 2)
    # spatial positions (0,0),(0,1) on worker 0 and (1,0),(1,1) on worker 1, every period
    assert {k[-2:]: w for k, w in mine.items()} == {(0, 0): 0, (0, 1): 0, (1, 0): 1, (1, 1): 1}
    assert owners(outputs, 2, rotation=1)[outputs[0]] == 1
    fused, place = plan(graph, outputs, mine)
    assert all(place[k] == mine[k] for k in outputs)
    # what moves between workers (values one worker makes and a task of the other
    # reads) are halo edges and padding, a small part of a block (32 x 32 float32)
    crossing = {
        d for k, node in fused.items() for d in node.dependencies
        if d in place and k in place and place[d] != place[k]
    }  # fmt: skip
    assert crossing
    values = execute_graph(fused, keys=crossing)
    # at most two 32-px strips and a corner of a block (4 KiB)
    assert max(_nbytes(values[k]) for k in crossing) <= 2 * 32 * 4 + 4


def _nbytes(value: Any) -> int:
    """Bytes of an array, or of the arrays of a block's lent halo strips."""
    if isinstance(value, dict):
        return sum(np.asarray(v).nbytes for v in value.values())
    return int(np.asarray(value).nbytes)


def test_one_spatial_block_spreads_the_periods_over_the_workers():
    from hybrid.backends.local.placement import owners

    outputs = [("mean", p, 0, 0) for p in range(4)]
    assert [owners(outputs, 2)[k] for k in outputs] == [0, 0, 1, 1]
    assert [owners(outputs[:1], 2, rotation=r)[outputs[0]] for r in range(3)] == [0, 1, 0]


#: block computations of :func:`_counted_block`, by chunk location (in-process workers
#: unpickle the graph's functions by reference, so they share this module's globals)
_CALLS: collections.Counter[tuple[int, ...]] = collections.Counter()
_LOCK = threading.Lock()
_VALUES = np.random.default_rng(5).normal(size=(2, 48, 20))


def _counted_block(block_info: Any = None) -> Any:
    where = block_info[None]["array-location"]
    with _LOCK:
        _CALLS[tuple(block_info[None]["chunk-location"])] += 1
    return _VALUES[tuple(slice(*w) for w in where)]


def _rolled(block: Any) -> Any:
    return block + np.roll(block, 1, axis=-2)


def _tasks_left(client: Any, patience: float = 10.0) -> int:
    """The scheduler's tasks once the client's releases have reached it (they travel
    after the last result), or what is still there after ``patience`` seconds."""
    import time

    deadline = time.monotonic() + patience
    while (left := client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    return int(left)


def test_cluster_batches_hand_the_next_one_what_it_shares_and_compute_each_block_once():
    """Written batch by batch on a real (in-process) dask.distributed cluster, a
    kernel's halo reads the next row's blocks: each input block is computed once (the
    batch hands on what the next needs, as the threaded store does), the values are
    dask's own and nothing is left on the cluster."""
    from types import SimpleNamespace

    from dask.distributed import Client, LocalCluster

    from hybrid.backends.local.cluster import write_as_completed

    _CALLS.clear()
    chunks = da.core.normalize_chunks((1, 8, 10), _VALUES.shape)
    lazy = da.map_blocks(_counted_block, chunks=chunks, dtype="float64")
    smoothed = lazy.map_overlap(_rolled, depth=(0, 2, 0))
    want = da.from_array(_VALUES, chunks=chunks).map_overlap(_rolled, depth=(0, 2, 0))
    out = np.full(_VALUES.shape, np.nan)

    def write(index: Any, got: Any) -> None:
        out[index] = got

    settings = SimpleNamespace(progress=False, worker_timeout=30.0)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        write_as_completed(client, smoothed, write, settings)
        left = _tasks_left(client)
    np.testing.assert_array_equal(out, want.compute())
    assert len(_CALLS) == lazy.npartitions
    assert set(_CALLS.values()) == {1}  # 12 rows of blocks in several batches
    assert left == 0


def test_cluster_batches_keep_the_masks_they_hand_on_as_bits():
    """The cloud masks a batch hands the next one (its halo reads the row below) wait on
    the workers as bits, an eighth of a byte a pixel; the result is dask's own."""
    from dask.distributed import Client, LocalCluster

    from hybrid.backends.local.halo import map_with_halo
    from hybrid.backends.local.placement import PlacedBatches
    from hybrid.io.held_bits import PackedBits
    from hybrid.io.streaming import block_slices

    mask = da.from_array(_VALUES > 0.5, chunks=(1, 8, 10)) | False
    smeared = map_with_halo(_four_neighbours, mask, (1, 1), "float32")
    want = smeared.compute(scheduler="synchronous")
    out = np.full(smeared.shape, np.nan, dtype="float32")
    kept: list[Any] = []
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        batches = PlacedBatches(client, smeared)
        while True:
            batches.top_up()
            kept += [f.result() for k, f in batches._kept.items() if k[0].startswith(mask.name)]
            if not batches.pending:
                break
            future = next(iter(batches.pending))
            position = batches.position(future)
            out[block_slices(smeared.chunks, position)] = future.result()
            future.release()
        batches.close()
    np.testing.assert_array_equal(out, want)
    assert kept and all(isinstance(value, PackedBits) for value in kept)
    assert all(value.nbytes <= -(-int(np.prod(value.shape)) // 8) for value in kept)
