"""The openeo client's ``DataCube.resolution_merge`` against ``hybrid serve``: the 20 m
bands of the sample sharpened with its 10 m bands, written as int16 like the loaded
bands, each cell the engine's ImproPhe of the bands downloaded from the same server
(whose own checks are in ``tests/engine/test_resolution_merge.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import xarray as xr

from hybrid.backends.local.processes.resolution_merge import resolution_merge
from tests.workflows.raw import BBOX, DATES

HIGH, LOW = ["B02", "B03", "B04", "B08"], ["B05", "B11"]


def _first(connection: Any) -> Any:
    """The first valid value of each band over a few weeks (int16, gaps where cloudy)."""
    return connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=HIGH + LOW
    ).reduce_dimension("t", reducer="first")


def _read(path: Path) -> tuple[np.ndarray, str, tuple]:
    with rasterio.open(path) as ds:
        values = ds.read().astype(np.float64)
        values[values == ds.nodata] = np.nan
        return values, ds.dtypes[0], ds.descriptions


def test_the_client_gets_the_sharpened_bands(connection: Any, tmp_path: Path) -> None:
    _first(connection).download(tmp_path / "raw.tif", format="GTiff")
    raw, _, names = _read(tmp_path / "raw.tif")
    merged = _first(connection).resolution_merge(
        high_resolution_bands=HIGH, low_resolution_bands=LOW
    )
    merged.download(tmp_path / "merged.tif", format="GTiff")
    got, dtype, got_names = _read(tmp_path / "merged.tif")
    assert dtype == "int16" and got_names == names == tuple(HIGH + LOW)
    cube = xr.DataArray(raw, dims=("bands", "y", "x"), coords={"bands": list(names)})
    cube = cube.assign_coords(y=np.arange(raw.shape[1]), x=np.arange(raw.shape[2]))
    want = resolution_merge(cube, HIGH, LOW, input_cell_type="int16").values
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got[:4], raw[:4])
    changed = (got[4:] != raw[4:]) & np.isfinite(raw[4:])
    assert changed.mean() > 0.3, "the 20 m bands are sharpened"
