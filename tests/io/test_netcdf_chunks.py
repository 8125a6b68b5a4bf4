"""A lazy result's chunks deflated where its blocks are computed (hybrid.io.netcdf_chunks)
give the file netCDF-C writes: the same layout, and in every chunk the same filter mask
and the same bytes once inflated (libdeflate's stream is not zlib's, and no larger)."""

from __future__ import annotations

import functools
import zlib
from pathlib import Path

import dask.array as da
import h5py
import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from dask.sizeof import sizeof

from hybrid.io.layout import describe, differences
from hybrid.io.netcdf import write_netcdf
from hybrid.io.netcdf_chunks import EncodedBlock
from hybrid.io.streaming import block_store, threaded_store


def _cube(data, *, times=3):
    coords = {
        "t": pd.date_range("2023-04-01", periods=times, freq="MS"),
        "y": 5_000_000.0 - 10 * np.arange(data.shape[-2]),
        "x": 400_000.0 + 10 * np.arange(data.shape[-1]),
    }
    dims = ("t", "y", "x")
    return xr.DataArray(data, dims=dims, coords=coords, name="var", attrs={"crs": "EPSG:32632"})


def _values(shape, seed=3):
    values = np.random.default_rng(seed).random(shape).astype("float32") * 2 - 1
    values[..., 40:90, 100:260] = np.nan  # clouds
    return values


def _chunks(path: Path) -> dict[tuple[str, tuple[int, ...]], tuple[int, bytes]]:
    """Every chunk of every chunked variable as stored: (filter mask, bytes)."""
    found = {}
    with h5py.File(path) as f:
        for name, dataset in f.items():
            if not isinstance(dataset, h5py.Dataset) or dataset.chunks is None:
                continue
            for i in range(dataset.id.get_num_chunks()):
                offset = dataset.id.get_chunk_info(i).chunk_offset
                found[(name, offset)] = dataset.id.read_direct_chunk(offset)
    return found


def _storage(path: Path) -> dict[str, tuple]:
    """What readers see of each variable's storage."""
    with h5py.File(path) as f:
        return {
            name: (d.shape, d.maxshape, d.dtype.str, d.chunks, d.compression,
                   d.compression_opts, d.shuffle, d.fletcher32, repr(d.fillvalue),
                   sorted(k for k in d.attrs if k != "DIMENSION_LIST"))
            for name, d in f.items() if isinstance(d, h5py.Dataset)
        }  # fmt: skip


def assert_same_file(ours: Path, reference: Path) -> None:
    """Same layout, attributes, storage, chunk bytes and values."""
    assert differences(describe(reference), describe(ours), sizes=True) == []
    assert _storage(ours) == _storage(reference)
    chunks = _chunks(reference)
    assert len(chunks) > 4
    stored = _chunks(ours)
    assert stored.keys() == chunks.keys()
    for key, (mask, data) in chunks.items():
        assert stored[key][0] == mask == 0
        assert zlib.decompress(stored[key][1]) == zlib.decompress(data)
    deflated = sum(len(data) for _, data in stored.values())
    assert deflated <= 1.01 * sum(len(data) for _, data in chunks.values())
    with netCDF4.Dataset(ours) as a, netCDF4.Dataset(reference) as b:
        assert a.data_model == "NETCDF4_CLASSIC"
        for name, var in b.variables.items():
            assert a[name].ncattrs() == var.ncattrs()
            assert a[name].filters() == var.filters()
            assert a[name].chunking() == var.chunking()
            np.testing.assert_array_equal(a[name][:], var[:])
    for engine in ("h5netcdf", "netcdf4"):
        with xr.open_dataset(ours, engine=engine) as a, xr.open_dataset(reference) as b:
            xr.testing.assert_identical(a, b)


def test_threaded_deflated_chunks_equal_netcdf_c(tmp_path):
    """Blocks off the 256-px lattice (chunks shared by blocks), an edge chunk past the
    array's end, two dates a block: the chunks are netCDF-C's."""
    values = _values((3, 600, 700))
    lazy = da.from_array(values, chunks=(2, 230, 300))
    ours = write_netcdf(_cube(lazy), tmp_path / "lazy.nc")
    reference = write_netcdf(_cube(values), tmp_path / "eager.nc")
    assert_same_file(ours, reference)


def test_bands_and_integers_without_time(tmp_path):
    """One variable per band, 2-D chunks; float32 and int16 (fill -32768)."""
    values = _values((2, 520, 300)) * 1000
    coords = {
        "bands": ["B04", "B08"],
        "y": 5_000_000.0 - 10 * np.arange(520),
        "x": 400_000.0 + 10 * np.arange(300),
    }
    lazy = da.from_array(values, chunks=(1, 200, 256))
    cube = xr.DataArray(lazy, dims=("bands", "y", "x"), coords=coords, attrs={"crs": "EPSG:32632"})
    for name, part in (("float", cube), ("int", cube.fillna(-5).astype("int16"))):
        ours = write_netcdf(part, tmp_path / f"{name}-lazy.nc")
        reference = write_netcdf(part.compute(), tmp_path / f"{name}-eager.nc")
        with netCDF4.Dataset(ours) as ds:
            assert ds["B08"].dtype == part.dtype and ds["B08"].chunking() == [256, 256]
        assert_same_file(ours, reference)


def _dropping_store(array, write, *, encode=None):
    """A store that loses the first block."""
    dropped = []

    def lossy(index, encoded):
        if not dropped:
            dropped.append(index)
            return
        write(index, encoded)

    threaded_store(array, lossy, encode=encode, scheduler="synchronous")


def test_a_block_never_written_fails_the_write(tmp_path):
    lazy = da.from_array(_values((1, 600, 700)), chunks=(1, 300, 300))
    with block_store(_dropping_store), pytest.raises(RuntimeError, match="not complete"):
        write_netcdf(_cube(lazy, times=1), tmp_path / "lost.nc")
    assert not (tmp_path / "lost.nc").exists()


@pytest.mark.slow
def test_a_local_cluster_deflates_on_the_workers(tmp_path):
    """On a real LocalCluster of 2 worker processes the client gets deflated chunks and
    the few raw parts of shared chunks, never a block; the file is netCDF-C's."""
    from hybrid.backends.local import LocalSettings
    from hybrid.backends.local.compute import store

    values = _values((2, 768, 700))
    # blocks as the engine makes them: the first one short of the 256-px lattice
    lazy = da.from_array(values, chunks=(1, (248, 520), (512, 188)))
    received: list[EncodedBlock] = []

    def spying(array, write, *, encode=None):
        def spy(index, payload):
            received.append(payload)
            write(index, payload)

        store(array, spy, LocalSettings(workers=2), encode=encode)

    with block_store(spying):
        ours = write_netcdf(_cube(lazy, times=2), tmp_path / "cluster.nc")
    reference = write_netcdf(_cube(values, times=2), tmp_path / "eager.nc")
    assert len(received) == lazy.npartitions
    assert all(isinstance(p, EncodedBlock) for p in received)
    raw = sum(v.nbytes for p in received for _, v in p.parts)
    deflated = sum(len(b) for p in received for _, b in p.deflated)
    assert deflated > 0 and raw == values.nbytes // 3  # only the first row of chunks
    assert_same_file(ours, reference)
    # dask counts them at their size (memory accounting, transfer counters), not as
    # the few dozen bytes of an object
    assert sum(sizeof(p) for p in received) >= raw + deflated


def test_the_threaded_store_encodes_outside_the_write_lock(tmp_path):
    """encode runs in dask's threads at the same time (libdeflate releases the GIL)."""
    import threading
    import time

    running = []
    overlapped = threading.Event()

    def encode(index, block):
        running.append(index)
        if len(running) >= 2:
            overlapped.set()
        overlapped.wait(timeout=2)
        time.sleep(0.01)
        running.remove(index)
        return block.sum()

    sums = {}
    lazy = da.from_array(np.ones((4, 8)), chunks=(2, 8))
    store = functools.partial(threaded_store, scheduler="threads", num_workers=2)
    store(lazy, lambda index, s: sums.__setitem__(index[0].start, s), encode=encode)
    assert overlapped.is_set()
    assert sums == {0: 16.0, 2: 16.0}


@pytest.mark.parametrize(("cell_type", "fill"), [(("uint8", 0), 0), (("uint16", 65535), None)])
def test_unsigned_cells_chunked_as_netcdf_c_and_stored_as_netcdf_java(tmp_path, cell_type, fill):
    """A uint8/uint16 cube written as netcdf-java stores UBYTE/USHORT in netcdf4_classic
    (hybrid.io.netcdf_types): the signed type with ``_Unsigned``, its cells bit for bit,
    nodata as the type's nodata; the direct chunk writes are netCDF-C's chunks."""
    from hybrid.io.cube import CELL_TYPE
    from tests.netcdf_unsigned import assert_stored_as_netcdf_java, read_variable

    dtype, nodata = cell_type
    top = np.iinfo(dtype).max
    values = np.round((_values((2, 600, 700)) + 1) / 2 * top)  # clouds stay NaN
    want = np.where(np.isnan(values), nodata, values).astype(dtype)
    lazy = _cube(da.from_array(values, chunks=(1, 230, 300)), times=2)
    ours = write_netcdf(lazy.assign_attrs({CELL_TYPE: cell_type}), tmp_path / "lazy.nc")
    eager = _cube(values, times=2).assign_attrs({CELL_TYPE: cell_type})
    reference = write_netcdf(eager, tmp_path / "eager.nc")
    assert_same_file(ours, reference)
    read = read_variable(ours, "var")
    assert_stored_as_netcdf_java(read, dtype, fill)
    np.testing.assert_array_equal(read.raw.view(dtype), want)
