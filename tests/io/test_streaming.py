"""A lazy cube is written block by block, with the same bytes as the computed one."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hybrid.io.netcdf import write_netcdf
from hybrid.io.streaming import block_store, threaded_store


def _cube(data):
    t = pd.to_datetime(["2023-04-01", "2023-05-01", "2023-06-01"])
    return xr.DataArray(
        data, dims=("t", "y", "x"), name="var",
        coords={"t": t, "y": 5_000_000.0 - 10 * np.arange(data.shape[1]),
                "x": 400_000.0 + 10 * np.arange(data.shape[2])},
        attrs={"crs": "EPSG:32632"},
    )  # fmt: skip


def _counting_store(seen: list[tuple[slice, ...]]):
    """The threaded block store, recording the index of every block it writes."""

    def counting(array, write, *, encode=None):
        def spy(index, block):
            seen.append(index)
            write(index, block)

        threaded_store(array, spy, encode=encode)

    return counting


def test_a_lazy_cube_is_written_block_by_block_with_the_same_values(tmp_path):
    values = np.random.default_rng(1).random((3, 70, 50)).astype("float32")
    values[1, 10:20, 5:9] = np.nan
    lazy = da.from_array(values, chunks=(2, 32, 16))
    seen: list[tuple[slice, ...]] = []
    with block_store(_counting_store(seen)):
        write_netcdf(_cube(lazy), tmp_path / "lazy.nc")
    write_netcdf(_cube(values), tmp_path / "eager.nc")
    assert len(seen) == lazy.npartitions  # one write per block, none of the whole
    with xr.open_dataset(tmp_path / "lazy.nc") as a, xr.open_dataset(tmp_path / "eager.nc") as b:
        np.testing.assert_array_equal(a["var"].values, b["var"].values)
        assert a["var"].shape == (3, 70, 50)


def test_a_lazy_cube_is_written_to_gtiff_block_by_block_with_the_same_values(tmp_path):
    import rasterio

    from hybrid.io.gtiff import write_gtiff

    values = np.random.default_rng(2).random((3, 70, 50)).astype("float32")
    values[2, 30:40, 0:7] = np.nan
    lazy = da.from_array(values, chunks=(1, 32, 16))
    seen: list[tuple[slice, ...]] = []
    with block_store(_counting_store(seen)):
        files = write_gtiff(_cube(lazy), tmp_path / "lazy")
    eager = write_gtiff(_cube(values), tmp_path / "eager")
    assert len(seen) == lazy.npartitions  # every block written on its own
    assert [f.name for f in files] == [f.name for f in eager]
    for a, b in zip(files, eager, strict=True):
        with rasterio.open(a) as fa, rasterio.open(b) as fb:
            np.testing.assert_array_equal(fa.read(), fb.read())


def test_batches_are_one_leading_block_and_whole_rows_covering_the_array_once():
    from hybrid.io.streaming import row_batches

    chunks = ((1, 1), (4, 4, 4, 2), (5, 5, 5))  # 2 x 4 x 3 blocks, 3 a row
    batches = row_batches(chunks, 6)
    assert [(b[0], b[1]) for b in batches] == [
        (slice(0, 1), slice(0, 8)), (slice(0, 1), slice(8, 14)),
        (slice(1, 2), slice(0, 8)), (slice(1, 2), slice(8, 14)),
    ]  # fmt: skip
    assert all(b[2] == slice(0, 15) for b in batches)
    assert row_batches(((3, 3),), 1) == [(slice(0, 6),)]


def test_a_row_longer_than_a_batch_is_split_into_runs_of_blocks():
    from hybrid.io.streaming import row_batches

    chunks = ((1,), (4, 4), (5, 5, 5, 5, 5))  # 2 rows of 5 blocks
    batches = row_batches(chunks, 2)
    assert [(b[1], b[2]) for b in batches] == [
        (slice(0, 4), slice(0, 10)), (slice(0, 4), slice(10, 20)), (slice(0, 4), slice(20, 25)),
        (slice(4, 8), slice(0, 10)), (slice(4, 8), slice(10, 20)), (slice(4, 8), slice(20, 25)),
    ]  # fmt: skip
    covered = np.zeros((8, 25), int)
    for b in row_batches(chunks, 4):  # runs of 3 + 2 blocks, not 4 + 1
        covered[b[1], b[2]] += 1
        assert (b[2].stop - b[2].start) // 5 <= 4
    assert (covered == 1).all()
    assert len(row_batches(chunks, 4)) == 4


def test_batched_store_writes_each_block_once_at_its_place():
    values = np.arange(2 * 9 * 7, dtype="float64").reshape(2, 9, 7)
    lazy = da.from_array(values, chunks=(1, 2, 3))
    out = np.full(values.shape, -1.0)
    writes = []

    def write(index, block):
        writes.append(index)
        out[index] = block

    threaded_store(lazy, write, batch_blocks=4, scheduler="synchronous")
    np.testing.assert_array_equal(out, values)
    assert len(writes) == lazy.npartitions


@pytest.mark.parametrize("fuse", [True, False])
def test_batched_store_runs_each_batch_from_one_optimized_graph(fuse):
    """The graph is optimized once; with dask's low-level fusion off (a graph dask does
    not materialize) the batches still compute every block of a map_overlap pipeline."""
    import dask
    from dask.core import flatten

    values = np.random.default_rng(0).normal(size=(2, 12, 10))
    lazy = da.from_array(values, chunks=(1, 4, 5))
    smoothed = (lazy * 2).map_overlap(lambda b: b + np.roll(b, 1, axis=-1), depth=(0, 1, 1))
    want = smoothed.compute(scheduler="synchronous")
    out = np.full(values.shape, np.nan)
    optimized = []
    real = type(smoothed).__dask_optimize__

    def counting(dsk, keys, **kwargs):
        optimized.append(len(list(flatten(keys))))
        return real(dsk, keys, **kwargs)

    def write(index, block):
        out[index] = block

    with dask.config.set({"optimization.fuse.active": fuse, "array_optimize": counting}):
        threaded_store(smoothed, write, batch_blocks=2, scheduler="threads")
    np.testing.assert_array_equal(out, want)
    assert optimized == [smoothed.npartitions]  # once, for all the blocks


@pytest.mark.parametrize("size", [(3, 40, 30), (3, 600, 520)])  # plain and Copernicus chunks
def test_bands_sharing_their_input_compute_it_once_per_block(tmp_path, size):
    """A band-maths cube whose bands share one input per block (a cloud mask, an
    apply_dimension over bands): the netCDF writer stores the bands together, so the
    shared input is computed once per block, not once per band; the values are those
    of the computed cube."""
    import threading

    calls: list[int] = []
    lock = threading.Lock()

    def shared(block):
        if block.size:  # dask also calls it once on an empty array, for the meta
            with lock:
                calls.append(1)
        return block * 2

    base = da.from_array(
        np.random.default_rng(3).random(size).astype("float32"), chunks=(1, 256, 256)
    )
    doubled = base.map_blocks(shared, dtype="float32")
    stacked = da.stack([doubled + 1, doubled - 1, doubled * 3], axis=1)  # (t, bands, y, x)
    t = pd.to_datetime(["2023-04-01", "2023-05-01", "2023-06-01"])
    cube = xr.DataArray(
        stacked, dims=("t", "bands", "y", "x"), name="var",
        coords={"t": t, "bands": ["a", "b", "c"],
                "y": 5_000_000.0 - 10 * np.arange(size[1]),
                "x": 400_000.0 + 10 * np.arange(size[2])},
        attrs={"crs": "EPSG:32632"},
    )  # fmt: skip
    write_netcdf(cube, tmp_path / "lazy.nc")
    assert len(calls) == base.npartitions
    calls.clear()
    write_netcdf(cube.compute(), tmp_path / "eager.nc")
    with (
        xr.open_dataset(tmp_path / "lazy.nc") as lazy,
        xr.open_dataset(tmp_path / "eager.nc") as eager,
    ):
        for band in ("a", "b", "c"):
            np.testing.assert_array_equal(lazy[band].values, eager[band].values)
