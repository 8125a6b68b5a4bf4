"""Workflows of CDSE's published notebooks (github.com/eu-cdse/notebook-samples, openeo/)
through the openeo client against ``hybrid serve``, changed only in URL, AOI and dates.

Each test holds the notebook's client calls (the source path is in its docstring) and
checks the result against numpy on the raw bands downloaded from the same server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import (
    BBOX,
    DATES,
    dilation_masks,
    finite_share,
    nanmax_t,
    pixels_inside,
    raw_bands,
    read_tiff,
)


def _nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


@pytest.mark.slow
def test_load_collection_notebook_raw_composite_and_masked_composite(
    connection: Any, tmp_path: Path
) -> None:
    """openeo/Load_Collection.ipynb: the raw cube, ``max_time`` and an SCL-masked
    ``max_time`` (``resample_cube_spatial`` of the mask, then ``mask``). The notebook's
    "TEMP WORKAROUND FOR OFFSET ERROR ON SCL BAND" (``scl == 3 - 1000``) works around a
    Copernicus defect and masks nothing; the notebook's first line is used."""
    s2_cube = connection.load_collection(
        "SENTINEL2_L2A",
        temporal_extent=DATES,
        spatial_extent={**BBOX, "crs": "EPSG:4326"},
        bands=["B04", "B03", "B02", "SCL"],
        max_cloud_cover=50,
    )
    s2_cube.download(tmp_path / "load-raw.nc")
    raw = _nc(tmp_path / "load-raw.nc")
    composite = s2_cube.max_time()
    composite.download(tmp_path / "load-composite.nc")
    scl_band = s2_cube.band("SCL")
    cloud_mask = (scl_band == 3) | (scl_band == 8) | (scl_band == 9)
    cloud_mask = cloud_mask.resample_cube_spatial(s2_cube)
    cube_masked = s2_cube.mask(cloud_mask)
    composite_masked = cube_masked.max_time()
    composite_masked.download(tmp_path / "load-composite-masked.nc")

    everything = raw_bands(connection, ["SCL"], tmp_path / "all.nc")
    # max_cloud_cover=50 drops the cloudy dates of the sample (06-12 has 51 %)
    assert 2 <= raw.sizes["t"] < everything.sizes["t"]
    data = raw[["B04", "B03", "B02"]].to_array(dim="bands")
    assert data.sizes["y"] > 50 and data.sizes["x"] > 50
    assert finite_share(data.values) > 0.8 and np.nanmax(data.values) < 20000
    got = _nc(tmp_path / "load-composite.nc")
    assert "t" not in got.dims
    for band in ("B04", "B03", "B02"):
        want = np.nanmax(raw[band].values, axis=0)
        np.testing.assert_array_equal(got[band].values, want)
    masked = _nc(tmp_path / "load-composite-masked.nc")
    cloudy = np.isin(raw["SCL"].values, [3, 8, 9])
    assert 0 < cloudy.sum() < cloudy.size, "the AOI must have some but not only clouds"
    for band in ("B04", "B03", "B02"):
        values = np.where(cloudy, np.nan, raw[band].values)
        np.testing.assert_array_equal(masked[band].values, nanmax_t(values))
    assert (masked["B04"].values < got["B04"].values).any(), "a cloud was the maximum"


def test_batch_job_notebook_one_geotiff_per_date(connection: Any, tmp_path: Path) -> None:
    """openeo/Batch_job.ipynb: ``save_result(format="GTiff")``, ``execute_batch``,
    ``get_results().download_files``; Copernicus writes one GeoTIFF per date, whose
    bands are the cube's bands in order."""
    cube = connection.load_collection(
        "SENTINEL2_L2A",
        bands=["B04", "B03", "B02"],
        temporal_extent=DATES,
        spatial_extent={**BBOX, "crs": "EPSG:4326"},
        max_cloud_cover=50,
    )
    cube = cube.save_result(format="GTiff")
    job = cube.execute_batch(title="Slice of S2 data")
    assert job.status() == "finished"
    results = job.get_results()
    results.download_files(tmp_path / "output" / "batch_job")
    tifs = sorted((tmp_path / "output" / "batch_job").glob("*tif"))

    raw = raw_bands(connection, ["B04", "B03", "B02"], tmp_path / "raw.nc", max_cloud_cover=50)
    assert len(tifs) == raw.sizes["t"]
    for path, date in zip(tifs, raw["t"].values, strict=True):
        assert np.datetime_as_string(date, unit="D") in path.name
        data = read_tiff(path)
        assert data.shape[0] == 3
        t = {"t": date}
        want = np.stack([raw[b].sel(t).values for b in ("B04", "B03", "B02")])
        np.testing.assert_array_equal(data, want)


def test_udp_notebook_ndwi_as_a_user_defined_process(connection: Any, tmp_path: Path) -> None:
    """openeo/UDP.ipynb: the NDWI composite stored as a user-defined process with two
    parameters (``date_range``, ``bbox``), then run with ``datacube_from_process``."""
    from openeo.api.process import Parameter

    temporal_extent_param = Parameter(
        name="date_range",
        description="The date range to load.",
        schema={"type": "array", "subtype": "temporal-interval"},
    )
    spatial_extent_param = Parameter(
        name="bbox",
        description="The bounding box to load.",
        schema={"type": "object", "subtype": "geojson"},
    )
    band = ["B03", "B08"]
    cube = connection.load_collection(
        "SENTINEL2_L2A",
        temporal_extent=temporal_extent_param,
        spatial_extent=spatial_extent_param,
        bands=band,
        max_cloud_cover=80,
    )
    green = cube.band("B03")
    nir = cube.band("B08")
    ndwi = (green - nir) / (green + nir)
    ndwi = ndwi.max_time()
    connection.save_user_defined_process(
        user_defined_process_id="NDWI",
        process_graph=ndwi,
        parameters=[temporal_extent_param, spatial_extent_param],
    )
    ndwi2023 = connection.datacube_from_process(process_id="NDWI", date_range=DATES, bbox=BBOX)
    ndwi2023.download(tmp_path / "ndwi2023.tiff")
    data = read_tiff(tmp_path / "ndwi2023.tiff")

    raw = raw_bands(connection, band, tmp_path / "raw.nc", max_cloud_cover=80)
    g, n = raw["B03"].values.astype(np.float64), raw["B08"].values.astype(np.float64)
    with np.errstate(all="ignore"):
        want = nanmax_t((g - n) / (g + n))
    assert data.shape == (1, *want.shape)
    np.testing.assert_allclose(data[0], want, rtol=1e-6, equal_nan=True)
    assert np.nanmin(data) >= -1 and np.nanmax(data) <= 1 and finite_share(data) > 0.9


@pytest.mark.slow
def test_whittaker_notebook_raw_ndvi_with_the_dilation_mask_and_a_polygon(
    connection: Any, tmp_path: Path
) -> None:
    """openeo/Whittaker.ipynb, up to the raw NDVI it smooths (the smoothing itself is
    fusets, client side): SCL ``to_scl_dilation_mask``, ``mask``, ``mask_polygon``,
    ``ndvi(target_band="NDVI")``; neither load has a spatial extent (the backend takes it
    from ``mask_polygon``, as Copernicus's dry run does), saved by a batch job."""
    west, south, east, north = 6.6615, 45.2375, 6.6665, 45.2425
    spat_ext = {
        "coordinates": [
            [[west, south], [east, south], [east, north], [west, north], [west, south]]
        ],
        "type": "Polygon",
    }
    temp_ext = DATES
    scl = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=temp_ext, bands=["SCL"], max_cloud_cover=95
    )
    cloud_mask = scl.process(
        "to_scl_dilation_mask",
        data=scl,
        kernel1_size=17,
        kernel2_size=77,
        mask1_values=[2, 4, 5, 6, 7],
        mask2_values=[3, 8, 9, 10, 11],
        erosion_kernel_size=3,
    )
    s2 = connection.load_collection(
        "SENTINEL2_L2A",
        temporal_extent=temp_ext,
        bands=["B04", "B08"],
    )
    s2 = s2.mask(cloud_mask)
    s2 = s2.mask_polygon(spat_ext)
    ndvi_cube = s2.ndvi(red="B04", nir="B08", target_band="NDVI")
    ndvi_output_file = tmp_path / "raw_s2_ndvi_field.nc"
    ndvi_cube.execute_batch(ndvi_output_file, title="FUSETS-Raw NDVI")
    raw_ndvi_ds = _nc(ndvi_output_file)
    raw_ndvi = raw_ndvi_ds.NDVI.rename({"t": "time"})

    box = {"west": west, "south": south, "east": east, "north": north}
    raw = raw_bands(connection, ["B04", "B08", "SCL"], tmp_path / "raw.nc", bbox=box)
    # Copernicus applies this mask while loading (python-driver evaluator.py L278-326):
    # the data keeps only the dates whose mask leaves a pixel unmasked
    # (geotrellis-extensions DatacubeSupport.scala prepareMask L288-293)
    cloudy = dilation_masks(connection, tmp_path / "scl.nc", raw, temp_ext, max_cloud_cover=95)
    clear = cloudy["t"].values[~cloudy.values.all(axis=(1, 2))]
    assert 0 < clear.size < raw.sizes["t"], "a date masked all over, dates with clear pixels"
    np.testing.assert_array_equal(raw_ndvi["time"].values, clear)
    raw = raw.sel(t=clear)
    r, n = raw["B04"].values.astype(np.float64), raw["B08"].values.astype(np.float64)
    with np.errstate(all="ignore"):
        want = np.where(cloudy.sel(t=clear).values, np.nan, (n - r) / (n + r))
    want[:, ~pixels_inside(raw, spat_ext)] = np.nan  # mask_polygon: centres outside
    np.testing.assert_allclose(raw_ndvi.values, want, rtol=1e-6, equal_nan=True)
    # thick clouds and their shadows (mask2_values) are always masked
    assert not np.isfinite(raw_ndvi.values)[np.isin(raw["SCL"].values, [3, 8, 9, 10])].any()
    assert 0.05 < np.isfinite(want).mean() < 0.95, "some pixels cloud free, some masked"


#: openeo/load_ESA_WorldCover.ipynb's UDF, as published
_RESCALE_UDF = """
import xarray

def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    cube.values = 0.8 * cube.values
    return cube
"""


@pytest.mark.slow
def test_worldcover_notebook_udf_rescales_every_band(connection: Any, tmp_path: Path) -> None:
    """openeo/load_ESA_WorldCover.ipynb (``ESA_WORLDCOVER_10M_2021_V2``/``MAP`` as
    ``SENTINEL2_L2A``/``SCL``, its ``aoi/Antwerp.geojson`` a FeatureCollection of the
    field): a load without bands (every band, in the collection's order), the
    notebook's UDF in ``apply`` (each chunk float32, as Copernicus hands it: 0.8 times a
    float32 stays float32, nodata NaN), ``execute_batch`` with its ``job_options``, the
    netCDF read back as the notebook reads it."""
    w, s, e, n = BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"]
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    aoi = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": geometry}]}  # fmt: skip
    dates = DATES
    cube = connection.load_collection("SENTINEL2_L2A", temporal_extent=dates, spatial_extent=aoi)
    import openeo

    udf = openeo.UDF(_RESCALE_UDF)
    rescaled_cube = cube.apply(process=udf)
    job_options = {
        "executor-memory": "2G",
        "executor-memoryOverhead": "3G",
        "python-memory": "3G",
    }
    rescaled_cube.execute_batch(
        title="ESA_WORLDCOVER_10M_2021_V2",
        outputfile=tmp_path / "ESAWorldCover.nc",
        job_options=job_options,
    )
    ds = _nc(tmp_path / "ESAWorldCover.nc")
    data = ds[["SCL"]].to_array(dim="bands").squeeze()
    arr = data.values
    arr[arr == 0] = np.nan

    names = [
        str(b["name"])
        for b in connection.describe_collection("SENTINEL2_L2A")["summaries"]["eo:bands"]
    ]
    assert [v for v in ds.data_vars if v != "crs"] == names
    raw = raw_bands(connection, names, tmp_path / "raw.nc")
    np.testing.assert_array_equal(ds["t"].values, raw["t"].values)
    for band in names:
        assert ds[band].dtype == np.float32
        want = raw[band].values.astype(np.float32) * np.float32(0.8)
        np.testing.assert_array_equal(ds[band].values, want, err_msg=band)
    assert data.dims == ("t", "y", "x")
    assert set(np.unique(arr[np.isfinite(arr)])) <= {np.float32(0.8) * v for v in range(1, 12)}


@pytest.mark.slow
def test_sentinel_3_notebook_one_day_as_an_array_of_bands(connection: Any, tmp_path: Path) -> None:
    """openeo/Sentinel_3.ipynb (``SENTINEL3_OLCI_L1B`` as ``SENTINEL2_L2A``, whose band
    names B08, B06, B04 it shares): ``describe_collection``, a load whose
    ``temporal_extent`` is one day twice (``["2021-07-30", "2021-07-30"]``: the whole day,
    as Copernicus reads it), ``download`` as netCDF, ``xarray.load_dataset`` and
    ``to_array(dim="bands")``, the notebook's ``data[{"t": 0}]``."""
    import xarray

    conn = connection
    assert conn.describe_collection("SENTINEL2_L2A")["id"] == "SENTINEL2_L2A"
    bbox = dict(BBOX)
    day = "2023-06-12"
    sentinel3 = conn.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=bbox,
        temporal_extent=[day, day],
        bands=["B08", "B06", "B04"],
    )
    sentinel3.download(tmp_path / "sentinel3.nc")
    ds = xarray.load_dataset(tmp_path / "sentinel3.nc")
    data = ds[["B08", "B06", "B04"]].to_array(dim="bands")
    first = data[{"t": 0}]

    assert data.dims == ("bands", "t", "y", "x") and data.sizes["t"] == 1
    assert str(data["t"].values[0])[:10] == day
    raw = raw_bands(
        connection, ["B08", "B06", "B04"], tmp_path / "raw.nc", dates=[day, "2023-06-13"]
    )
    want = np.stack([raw[b].values[0] for b in ("B08", "B06", "B04")])
    np.testing.assert_array_equal(first.values, want)
    assert np.isfinite(want).mean() > 0.9
