"""A NetCDF variable's chunks inflated on several threads (hybrid.io.netcdf_chunks
``read_deflated``) read the values HDF5 reads; ``read_netcdf`` gives the cube xarray's
own load gives, with or without that path."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import hybrid.io.netcdf as netcdf
from hybrid.errors import UsageError
from hybrid.io.netcdf import read_netcdf, write_netcdf
from hybrid.io.netcdf_chunks import read_deflated


def _values(shape: tuple[int, ...], seed: int = 5) -> np.ndarray:
    values = np.random.default_rng(seed).random(shape).astype("float32") * 2 - 1
    values[..., 30:70, 100:180] = np.nan
    return values


def _result(tmp_path: Path, shape: tuple[int, int, int] = (3, 300, 530)) -> Path:
    """A result as the engine writes it: chunks of 256 x 256, cut at the edges."""
    times, rows, cols = shape
    coords = {
        "t": pd.date_range("2023-04-01", periods=times, freq="MS"),
        "y": 5_000_000.0 - 10 * np.arange(rows),
        "x": 400_000.0 + 10 * np.arange(cols),
    }
    cube = xr.DataArray(
        _values(shape), dims=("t", "y", "x"), coords=coords, name="var",
        attrs={"crs": "EPSG:32632"},
    )  # fmt: skip
    path = tmp_path / "openEO.nc"
    write_netcdf(cube.chunk({"y": 128, "x": 200}), path)
    return path


@pytest.mark.parametrize("threads", [1, 3])
def test_a_written_result_reads_as_hdf5_reads_it(tmp_path, threads):
    path = _result(tmp_path)
    with h5py.File(path, "r") as h5:
        expected = h5["var"][...]
        values = read_deflated(h5["var"], threads=threads)
    assert values is not None
    assert values.dtype == expected.dtype
    np.testing.assert_array_equal(values, expected)


def _dataset(h5: h5py.File, dtype: str = "<f4", **options) -> h5py.Dataset:
    return h5.create_dataset(
        "v", shape=(2, 70, 90), chunks=(1, 32, 32), dtype=dtype, fillvalue=np.nan, **options
    )


def test_chunks_never_written_read_as_the_fill_value(tmp_path):
    with h5py.File(tmp_path / "f.h5", "w") as h5:
        dataset = _dataset(h5, compression="gzip")
        dataset[0, 10:40, 20:50] = _values((30, 30))
        expected = dataset[...]
        values = read_deflated(dataset)
    assert values is not None
    assert np.isnan(values).sum() == np.isnan(expected).sum() > 0
    np.testing.assert_array_equal(values, expected)


def test_big_endian_values_come_in_native_order(tmp_path):
    with h5py.File(tmp_path / "f.h5", "w") as h5:
        dataset = _dataset(h5, dtype=">f4", compression="gzip")
        dataset[...] = _values((2, 70, 90))
        expected = dataset[...]
        values = read_deflated(dataset)
    assert values is not None
    assert values.dtype == np.dtype("float32")
    np.testing.assert_array_equal(values, expected)


def test_a_chunk_stored_unfiltered_leaves_the_variable_to_hdf5(tmp_path):
    raw = _values((1, 32, 32), seed=9)
    with h5py.File(tmp_path / "f.h5", "w") as h5:
        dataset = _dataset(h5, compression="gzip")
        dataset[...] = _values((2, 70, 90))
        assert read_deflated(dataset) is not None
        dataset.id.write_direct_chunk((1, 32, 32), raw.tobytes(), filter_mask=1)
        assert read_deflated(dataset) is None


@pytest.mark.parametrize(
    "options", [{}, {"compression": "gzip", "shuffle": True}, {"compression": "lzf"}]
)
def test_other_storage_is_left_to_hdf5(tmp_path, options):
    with h5py.File(tmp_path / "f.h5", "w") as h5:
        if options:
            dataset = _dataset(h5, **options)
        else:  # contiguous
            dataset = h5.create_dataset("v", data=_values((2, 70, 90)))
        assert read_deflated(dataset) is None


def _xarray_load(path: Path, monkeypatch) -> xr.DataArray:
    with monkeypatch.context() as m:
        m.setattr(netcdf, "_with_inflated_values", lambda ds, file: ds)
        return read_netcdf(path)


def test_read_netcdf_gives_the_cube_xarray_loads(tmp_path, monkeypatch):
    path = _result(tmp_path)
    import hybrid.io.netcdf_chunks as chunks

    calls = []

    original = chunks.read_deflated

    def spy(dataset, *args, **kwargs):
        calls.append(dataset.name)
        return original(dataset, *args, **kwargs)

    monkeypatch.setattr(chunks, "read_deflated", spy)
    cube = read_netcdf(path)
    assert calls == ["/var"]
    assert cube.identical(_xarray_load(path, monkeypatch))


def test_scaled_or_filled_variables_are_decoded_by_xarray(tmp_path, monkeypatch):
    values = np.arange(2 * 40 * 50, dtype="int16").reshape(2, 40, 50)
    data = xr.Dataset(
        {
            "scaled": (("t", "y", "x"), values.astype("float32")),
            "filled": (("t", "y", "x"), np.where(values % 7 == 0, -9999, values).astype("f4")),
        },
        coords={
            "t": pd.date_range("2023-04-01", periods=2), "y": np.arange(40.0), "x": np.arange(50.0)
        },
    )  # fmt: skip
    path = tmp_path / "cf.nc"
    chunked = {"zlib": True, "chunksizes": (1, 16, 16)}
    encoding = {
        "scaled": {"dtype": "int16", "scale_factor": 0.5, "_FillValue": -1, **chunked},
        "filled": {"_FillValue": -9999.0, **chunked},
    }
    data.to_netcdf(path, engine="h5netcdf", encoding=encoding)
    import hybrid.io.netcdf_chunks as chunks

    calls = []
    monkeypatch.setattr(chunks, "read_deflated", lambda *a, **k: calls.append(a) or None)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        fast = netcdf._with_inflated_values(ds, path)
        assert calls == []  # neither variable keeps its stored values in xarray
        assert np.isnan(fast["filled"].values).sum() == (values % 7 == 0).sum()
        np.testing.assert_array_equal(fast["scaled"].values, values)


def test_a_damaged_chunk_is_left_to_hdf5_and_reported_in_one_line(tmp_path):
    path = _result(tmp_path)
    with h5py.File(path, "r+") as h5:
        h5["var"].id.write_direct_chunk((1, 256, 0), b"not a zlib stream")
    with h5py.File(path, "r") as h5:
        assert read_deflated(h5["var"]) is None
    with pytest.raises(UsageError, match=r"cannot read .*openEO\.nc as NetCDF"):
        read_netcdf(path)
