"""merge_cubes of a 10 m cube with a 20 m one (``resample_spatial``) through the openeo
client against ``hybrid serve``: as on Copernicus the second cube is resampled with
nearest neighbour onto the first's 10 m layout (openeo-geotrellis-extensions
``OpenEOProcesses.scala`` ``mergeCubes`` L936-945), not left as an irregular union of
x/y labels. Expected: numpy on the two cubes downloaded on their own."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from tests.workflows.raw import BBOX, DATES


def _download(cube: Any, path: Any) -> xr.Dataset:
    cube.download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _containing(centres: np.ndarray, source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the ``source`` pixel each centre lies in, and whether there is one."""
    step = source[1] - source[0]
    index = np.floor((centres - (source[0] - step / 2)) / step).astype(int)
    inside = (index >= 0) & (index < source.size)
    return np.clip(index, 0, source.size - 1), inside


def test_a_20m_cube_merged_into_a_10m_cube_takes_the_10m_pixels(connection, tmp_path):
    def load(band: str) -> Any:
        return connection.load_collection(
            "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=[band]
        )

    coarse = load("B11").resample_spatial(resolution=20, method="near")
    fine = _download(load("B04"), tmp_path / "b04.nc")
    twenty = _download(coarse, tmp_path / "b11.nc")
    merged = _download(load("B04").merge_cubes(coarse), tmp_path / "merged.nc")

    x, y = merged.x.values, merged.y.values
    np.testing.assert_allclose(np.diff(x), 10.0)
    np.testing.assert_allclose(np.diff(y), -10.0)
    assert np.isin(fine.x.values, x).all() and np.isin(fine.y.values, y).all()
    np.testing.assert_array_equal(merged["B04"].sel(x=fine.x, y=fine.y).values, fine["B04"].values)
    cols, in_x = _containing(x, twenty.x.values)
    rows, in_y = _containing(y, twenty.y.values)
    expected = twenty["B11"].values[:, rows][:, :, cols]
    expected[:, ~in_y, :] = np.nan
    expected[:, :, ~in_x] = np.nan
    assert np.isfinite(expected).mean() > 0.5
    np.testing.assert_array_equal(merged["B11"].values, expected)
