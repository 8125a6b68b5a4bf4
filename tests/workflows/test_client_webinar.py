"""Open-EO/openeo-python-client ``examples/archive/notebooks/openeo-terrascope-webinar.ipynb``
(Terrascope webinar, 2021) through the openeo client against ``hybrid serve``: its cells
as published, ``TERRASCOPE_S2_TOC_V2`` read as ``SENTINEL2_L2A``, the bbox, dates and
fields moved into the embedded sample. Each result is checked against numpy on the raw
bands downloaded from the same server.

The fields lie in the south of the sample's field, where every date of the season's
first and last weeks is clear: the notebook's Savitzky-Golay UDF interpolates gaps
inside the series but not at its ends, and ``savgol_filter`` refuses NaN (a series with
a masked first date fails the job on Copernicus as here)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import BBOX, pixels_inside, raw_bands, read_tiff

#: two clear dates at each end (22 and 27 June ... 12 and 17 July)
DATES = ("2023-06-20", "2023-07-20")
_W, _S = BBOX["west"], BBOX["south"]
#: three fields (the notebook has four in Flanders) as its GeometryCollection string
FIELDS_GEOJSON = json.dumps({"type": "GeometryCollection", "geometries": [
    {"type": "Polygon", "coordinates": [[[_W + 0.0012, _S + 0.0006], [_W + 0.0030, _S + 0.0005],
        [_W + 0.0034, _S + 0.0019], [_W + 0.0014, _S + 0.0022], [_W + 0.0012, _S + 0.0006]]]},
    {"type": "Polygon", "coordinates": [[[_W + 0.0040, _S + 0.0008], [_W + 0.0056, _S + 0.0008],
        [_W + 0.0056, _S + 0.0020], [_W + 0.0040, _S + 0.0008]]]},
    {"type": "Polygon", "coordinates": [[[_W + 0.0060, _S + 0.0006], [_W + 0.0068, _S + 0.0007],
        [_W + 0.0067, _S + 0.0016], [_W + 0.0061, _S + 0.0015], [_W + 0.0060, _S + 0.0006]]]},
]})  # fmt: skip

UDF_CODE = """
from scipy.signal import savgol_filter
from openeo.udf import XarrayDataCube

def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
    array = cube.get_array()
    filled = array.interpolate_na(dim='t')
    smoothed_array = savgol_filter(filled.values, 5, 2, axis=0)
    return DataCube(xarray.DataArray(smoothed_array, dims=array. dims,coords=array.coords))
"""


def _kernel() -> np.ndarray:
    import scipy.signal

    g = scipy.signal.windows.gaussian(11, std=1.6)
    kernel = np.outer(g, g)
    out: np.ndarray = kernel / kernel.sum()
    return out


def _masked_ndvi(con: Any, kernel: np.ndarray) -> Any:
    """Cells 77 and 109: the SCL mask smoothed by the kernel on an NDVI of a bare load."""
    cube = con.load_collection("SENTINEL2_L2A", bands=["B04", "B08", "SCL"])
    cube = cube.filter_temporal(DATES)
    classification = cube.band("SCL")
    mask = ~((classification == 4) | (classification == 5))
    mask = mask.apply_kernel(kernel)
    mask = mask > 0.1
    red = cube.band("B04")
    nir = cube.band("B08")
    ndvi = (nir - red) / (nir + red)
    return ndvi.mask(mask)


def _reference(raw: xr.Dataset, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ndvi, masked ndvi) as float32 (t, y, x) on ``raw``'s grid; the mask is exact
    where the kernel stays inside ``raw`` (Copernicus reads real pixels beyond it)."""
    from scipy.ndimage import convolve

    r, n = (raw[b].values.astype(np.float32) for b in ("B04", "B08"))
    with np.errstate(all="ignore"):
        ndvi = (n - r) / (n + r)
    cloudy = ~np.isin(raw["SCL"].values, [4, 5])
    smooth = np.stack([convolve(c.astype(np.float64), kernel, mode="constant") for c in cloudy])
    return ndvi, np.where(smooth > np.float32(0.1), np.nan, ndvi)


def _field_means(series: np.ndarray, raw: xr.Dataset, fields: Any) -> np.ndarray:
    """(t, field) the nanmean of each field's pixels (centre inside), NaN when none."""
    out = np.full((series.shape[0], len(fields.geoms)), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for i, field in enumerate(fields.geoms):
            inside = pixels_inside(raw, field)
            assert inside.sum() >= 8
            out[:, i] = [np.nanmean(d[inside]) for d in series]
    return out


def _json_series(path: Path) -> Any:
    import pandas as pd
    from openeo.rest.conversions import timeseries_json_to_pandas

    with open(path) as f:
        ts = timeseries_json_to_pandas(json.load(f))
    ts.index = pd.to_datetime(ts.index)
    return ts


@pytest.mark.slow
def test_webinar_masked_ndvi_maps_and_field_timeseries(connection: Any, tmp_path: Path) -> None:
    """Cells 43-80: NDVI from ``band()`` arithmetic, ``~(SCL == 4 | SCL == 5)``, the
    11 x 11 Gaussian (std 1.6) ``apply_kernel`` ``> 0.1`` as mask, GTiff downloads of the
    loads with extent, then ``aggregate_spatial(fields, "mean")`` of a bare load (the
    GeometryCollection's extent) as JSON read by ``timeseries_json_to_pandas``."""
    import shapely.geometry

    con, out_dir, kernel = connection, tmp_path, _kernel()
    bbox = {**BBOX, "crs": "EPSG:4326"}
    cube = con.load_collection(
        "SENTINEL2_L2A", temporal_extent=DATES, spatial_extent=bbox, bands=["B04", "B08", "SCL"]
    )
    classification = cube.band("SCL")
    mask = ~((classification == 4) | (classification == 5))
    mask.download(out_dir / "mask-orig.tiff", format="GTiff")
    mask = mask.apply_kernel(kernel)
    mask = mask > 0.1
    red = cube.band("B04")
    nir = cube.band("B08")
    ndvi = (nir - red) / (nir + red)
    masked_ndvi = ndvi.mask(mask)
    masked_ndvi.download(out_dir / "ndvi-masked.tiff", format="GTIFF")

    fields = shapely.geometry.shape(json.loads(FIELDS_GEOJSON))
    cube = con.load_collection("SENTINEL2_L2A", temporal_extent=DATES, bands=["B04", "B08"])
    red = cube.band("B04")
    nir = cube.band("B08")
    ndvi = (nir - red) / (nir + red)
    timeseries = ndvi.aggregate_spatial(geometries=fields, reducer="mean")
    timeseries.download(out_dir / "timeseries.json", format="JSON")
    masked_timeseries = _masked_ndvi(con, kernel).aggregate_spatial(
        geometries=fields, reducer="mean"
    )
    masked_timeseries.download(out_dir / "timeseries-masked.json", format="JSON")

    raw = raw_bands(con, ["B04", "B08", "SCL"], tmp_path / "raw.nc", dates=DATES)
    nd, masked = _reference(raw, kernel)
    # a synchronous GTiff of a cube with dates is its first date (sync_result.py)
    want_orig = ~np.isin(raw["SCL"].values[0], [4, 5])
    np.testing.assert_array_equal(read_tiff(out_dir / "mask-orig.tiff")[0], want_orig)
    got = read_tiff(out_dir / "ndvi-masked.tiff")[0]
    inner = (slice(6, -6), slice(6, -6))
    assert np.isnan(masked[0][inner]).mean() > 0.1, "the first date has clouds to mask"
    np.testing.assert_allclose(got[inner], masked[0][inner], rtol=1e-6, equal_nan=True)

    dates = [str(t)[:10] for t in raw["t"].values]
    for path, series in (("timeseries.json", nd), ("timeseries-masked.json", masked)):
        ts = _json_series(out_dir / path)
        assert [str(d)[:10] for d in ts.index] == dates
        want = _field_means(series, raw, fields)
        np.testing.assert_allclose(ts.to_numpy(dtype=float), want, rtol=1e-5, equal_nan=True)
    assert np.isnan(_field_means(masked, raw, fields)).any(), "a cloudy date is masked"


@pytest.mark.slow
def test_webinar_batch_job_and_savitzky_golay_udf(connection: Any, tmp_path: Path) -> None:
    """Cells 84-115: the masked time series as ``save_result(format="JSON")``, a job
    created, started, stopped (``canceled``), then ``execute_batch()``; the results'
    ``get_metadata()["bbox"]`` is a KeyError (Copernicus answers a STAC Collection, its
    bbox under ``extent``: python-driver views.py L1281-1304); ``download_file``; and the
    notebook's Savitzky-Golay UDF (legacy ``DataCube`` name, ``apply_dimension(code=udf,
    dimension="t")``) against scipy on the raw series."""
    import openeo
    import pytest
    import shapely.geometry
    from scipy.signal import savgol_filter

    con, out_dir, kernel = connection, tmp_path, _kernel()
    fields = shapely.geometry.shape(json.loads(FIELDS_GEOJSON))
    masked_ndvi = _masked_ndvi(con, kernel)
    masked_timeseries = masked_ndvi.aggregate_spatial(geometries=fields, reducer="mean")
    masked_timeseries = masked_timeseries.save_result(format="JSON")
    job = masked_timeseries.create_job()
    assert job.status() == "created"
    job.start_job()
    job.stop_job()
    assert job.status() == "canceled"
    job = masked_timeseries.execute_batch()
    results = job.get_results()
    metadata = results.get_metadata()
    with pytest.raises(KeyError):
        metadata["bbox"]
    west, _, east, north = metadata["extent"]["spatial"]["bbox"][0]
    assert west <= fields.bounds[0] and east >= fields.bounds[2] and north >= fields.bounds[3]
    assert [a.key for a in results.get_assets()] == ["timeseries.json"]
    results.download_file(out_dir / "timeseries-large.json")

    udf = openeo.UDF(UDF_CODE)
    smoothed_ndvi = masked_ndvi.apply_dimension(code=udf, dimension="t")
    smoothed_timeseries = smoothed_ndvi.aggregate_spatial(geometries=fields, reducer="mean")
    smoothed_timeseries.download(out_dir / "timeseries-smoothed.json", format="JSON")

    raw = raw_bands(con, ["B04", "B08", "SCL"], tmp_path / "raw.nc", dates=DATES)
    _, masked = _reference(raw, kernel)
    large = _json_series(out_dir / "timeseries-large.json")
    want = _field_means(masked, raw, fields)
    np.testing.assert_allclose(large.to_numpy(dtype=float), want, rtol=1e-5, equal_nan=True)
    series = xr.DataArray(masked, dims=("t", "y", "x"), coords={"t": raw["t"].values})
    filled = series.interpolate_na(dim="t").values
    ends = np.isfinite(filled).all(axis=0)  # the fields' pixels (asserted below)
    smooth = np.full_like(filled, np.nan)
    smooth[:, ends] = savgol_filter(filled[:, ends], 5, 2, axis=0)
    got = _json_series(out_dir / "timeseries-smoothed.json").to_numpy(dtype=float)
    assert all(ends[pixels_inside(raw, field)].all() for field in fields.geoms)
    np.testing.assert_allclose(got, _field_means(smooth, raw, fields), rtol=1e-5)
    assert np.isfinite(got).all() and not np.allclose(got, large.to_numpy(dtype=float))
