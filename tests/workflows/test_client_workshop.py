"""openeo-python-client ``examples/archive/notebooks/User-Workshop-2020-10/
openeo-workshop-python-client.ipynb`` through the openeo client against ``hybrid serve``:
the Sentinel-2 part, with ``SENTINEL2_L2A`` instead of ``TERRASCOPE_S2_TOC_V2`` (its
``TOC-B04_10M``, ``TOC-B08_10M``, ``SCENECLASSIFICATION_20M`` become B04, B08, SCL), the
AOI and dates of tests/workflows/raw.py, and the exercise cells filled in with the obvious
answer (NDVI from ``band()``, a download (netCDF: its x/y labels locate the pixels in
the widened raw bands), ``polygonal_mean_timeseries``). The
Sentinel-1 and PROBA-V cells need collections this server does not have.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.workflows.raw import BBOX, DATES, pixels_inside, raw_bands

pytestmark = pytest.mark.slow

#: the AOI widened by ~0.01 degrees (> the 81 x 81 kernel's 40 px) for the numpy check
WIDE = {k: v + d for (k, v), d in zip(BBOX.items(), (-0.01, -0.01, 0.01, 0.01), strict=True)}


def makekernel(size: int) -> np.ndarray:
    """The notebook's kernel (scipy.signal.windows.gaussian, std = size / 6)."""
    import scipy.signal

    assert size % 2 == 1
    kernel_vect = scipy.signal.windows.gaussian(size, std=size / 6.0, sym=True)
    kernel = np.outer(kernel_vect, kernel_vect)
    kernel = kernel / kernel.sum()
    return kernel


def _notebook(connection: Any, startdate: str, enddate: str) -> Any:
    s2bands = connection.load_collection("SENTINEL2_L2A", bands=["B04", "B08"])
    s2_sceneclassification = connection.load_collection("SENTINEL2_L2A", bands=["SCL"]).band("SCL")

    def create_advanced_mask(band: Any) -> Any:
        classification = band
        first_mask = ~(
            (classification == 4) | (classification == 5) | (classification == 6)
            | (classification == 7)
        )  # fmt: skip
        first_mask = first_mask.apply_kernel(makekernel(9))
        first_mask = first_mask.add_dimension("bands", "mask", type="bands").band("mask")
        first_mask = first_mask > 0.057
        second_mask = (
            (classification == 3) | (classification == 8) | (classification == 9)
            | (classification == 10)
        )  # fmt: skip
        second_mask = second_mask.apply_kernel(makekernel(81))
        second_mask = second_mask.add_dimension("bands", "mask", type="bands").band("mask")
        second_mask = second_mask > 0.1
        return first_mask.filter_temporal(startdate, enddate) | second_mask.filter_temporal(
            startdate, enddate
        )

    s2mask = create_advanced_mask(s2_sceneclassification)
    return s2bands.mask(s2mask)


def _expected_mask(scl: np.ndarray) -> np.ndarray:
    """(t, y, x) True where the notebook masks, on the widened raw SCL."""
    from scipy.ndimage import correlate

    def smooth(m: np.ndarray, size: int) -> np.ndarray:
        k = makekernel(size)
        return np.stack([correlate(d.astype(np.float64), k, mode="constant") for d in m])

    first = ~np.isin(scl, [4, 5, 6, 7])
    second = np.isin(scl, [3, 8, 9, 10])
    out: np.ndarray = (smooth(first, 9) > 0.057) | (smooth(second, 81) > 0.1)
    return out


def test_workshop_notebook_two_kernel_masks_or_ndvi_and_timeseries(
    connection: Any, tmp_path: Path
) -> None:
    startdate, enddate = DATES
    s2bands = _notebook(connection, startdate, enddate)
    red = s2bands.band("B04")
    nir = s2bands.band("B08")
    s2ndvi = (nir - red) / (nir + red)
    cube = s2ndvi.filter_temporal(startdate, enddate).filter_bbox(**BBOX)
    cube.download(tmp_path / "simple_download_ndvi.nc", format="netCDF")
    bbox_polygon = {"type": "Polygon", "coordinates": [[
        [BBOX["west"], BBOX["south"]], [BBOX["east"], BBOX["south"]],
        [BBOX["east"], BBOX["north"]], [BBOX["west"], BBOX["north"]],
        [BBOX["west"], BBOX["south"]],
    ]]}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the client's UserDeprecationWarning
        ndvi_timeseries = (
            s2ndvi.filter_temporal(startdate, enddate).polygonal_mean_timeseries(bbox_polygon)
        ).execute()

    import xarray as xr

    with xr.open_dataset(tmp_path / "simple_download_ndvi.nc", engine="h5netcdf") as ds:
        got = next(v for k, v in ds.data_vars.items() if k != "crs").values
        got_x, got_y = ds["x"].values, ds["y"].values
    wide = raw_bands(connection, ["B04", "B08", "SCL"], tmp_path / "raw.nc", bbox=WIDE)
    masked = _expected_mask(wide["SCL"].values)
    inner = wide.sel(x=got_x, y=got_y)
    ix = np.searchsorted(wide["x"].values, got_x)
    iy = np.flatnonzero(np.isin(wide["y"].values, got_y))
    r, n = (inner[b].values.astype(np.float64) for b in ("B04", "B08"))
    with np.errstate(all="ignore"):
        ndvi = (n - r) / (n + r)
    expected = np.where(masked[:, iy][:, :, ix], np.nan, ndvi)
    assert got.shape == expected.shape
    kept = np.isfinite(expected)
    assert 0.05 < kept.mean() < np.isfinite(ndvi).mean()
    # the same pixels are masked (float32 sums may tip a pixel at the threshold)
    assert (np.isfinite(got) != kept).mean() < 0.005
    both = np.isfinite(got) & kept
    np.testing.assert_allclose(got[both], expected[both], rtol=1e-5, atol=1e-6)

    from openeo.rest.conversions import timeseries_json_to_pandas

    s = timeseries_json_to_pandas(ndvi_timeseries)
    inside = pixels_inside(inner, bbox_polygon)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = [float(np.nanmean(d[inside])) for d in got]
    assert [str(d)[:10] for d in s.index] == [str(t)[:10] for t in inner["t"].values]
    np.testing.assert_allclose(s.to_numpy(dtype=float).ravel(), means, rtol=1e-5, equal_nan=True)
