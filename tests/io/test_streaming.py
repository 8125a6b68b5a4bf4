"""A lazy cube is written block by block, with the same bytes as the computed one."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pandas as pd
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


def test_a_lazy_cube_is_written_block_by_block_with_the_same_values(tmp_path):
    values = np.random.default_rng(1).random((3, 70, 50)).astype("float32")
    values[1, 10:20, 5:9] = np.nan
    lazy = da.from_array(values, chunks=(2, 32, 16))
    seen: list[tuple[slice, ...]] = []

    def counting(array, write):
        def spy(index, block):
            seen.append(index)
            write(index, block)

        threaded_store(array, spy)

    with block_store(counting):
        write_netcdf(_cube(lazy), tmp_path / "lazy.nc")
    write_netcdf(_cube(values), tmp_path / "eager.nc")
    assert len(seen) == lazy.npartitions  # one write per block, none of the whole
    with xr.open_dataset(tmp_path / "lazy.nc") as a, xr.open_dataset(tmp_path / "eager.nc") as b:
        np.testing.assert_array_equal(a["var"].values, b["var"].values)
        assert a["var"].shape == (3, 70, 50)
