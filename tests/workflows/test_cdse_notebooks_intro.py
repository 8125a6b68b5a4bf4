"""Two more published notebooks through the openeo client against ``hybrid serve``,
changed only in collection, AOI and dates, each checked against numpy on the raw bands
downloaded from the same server:

- eu-cdse/notebook-samples ``openeo/openEO Introduction/Introduction to openEO.ipynb``
  (SENTINEL3_SLSTR_L2_LST, not served, as SENTINEL2_L2A: B04 as ``LST``, SCL as
  ``confidence_in``);
- Open-EO/openeo-community-examples ``python/LoadStac/load-stac-item-example.ipynb``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import dilation_masks, raw_bands, read_tiff

#: the notebook's UDF, unchanged
HEATWAVE_UDF = """
import xarray
from openeo.udf import inspect

def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:

    condition_all_above_295 = (cube > 295).rolling(t=5).construct('window_dim').all(dim='window_dim')

    condition_at_least_3_above_300 = (cube > 300).rolling(t=5).construct('window_dim').sum(dim='window_dim') >= 3

    result = condition_all_above_295 & condition_at_least_3_above_300

    return result
"""  # noqa: E501


def _aoi(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    """The notebook's ``Netherlands_polygon.geojson`` layout: a FeatureCollection of one
    MultiPolygon with a CRS84 ``crs`` member."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {
        "type": "FeatureCollection",
        "name": "field_polygon",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "field"},
                "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
            }
        ],
    }


def _heatwave_days(lst: np.ndarray) -> np.ndarray:
    """The UDF in numpy, per pixel over the dates (axis 0): a date is a heatwave day when
    its window of the last five dates (fewer at the start: xarray's padding is skipped)
    is all above 295 with at least three above 300; NaN compares false."""
    with np.errstate(invalid="ignore"):
        above_295, above_300 = lst > 295, lst > 300
    days = np.zeros(lst.shape[1:])
    for i in range(lst.shape[0]):
        window = slice(max(0, i - 4), i + 1)
        days += above_295[window].all(axis=0) & (above_300[window].sum(axis=0) >= 3)
    return days


@pytest.mark.slow
def test_introduction_notebook_heatwave_days_from_a_udf_over_time(
    connection: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Introduction to openEO.ipynb: a GeoJSON polygon as ``spatial_extent`` (its bbox,
    no pixel masked: geopyspark-driver #768), a second load compared with ``>=`` as the
    mask, ``aggregate_temporal_period(day, max)``, the notebook's xarray UDF in
    ``apply_dimension`` over ``t`` (all dates of a tile at once, sorted: geopyspark-driver
    geopysparkdatacube.py ``apply_tiles_spatiotemporal`` L645-660; its boolean result
    stored as FLOAT32 0/1, L677-681), ``reduce_dimension(sum)`` over ``t``, a batch job
    with the notebook's string job options, the netCDF read with ``xr.load_dataset``."""
    import openeo

    monkeypatch.chdir(tmp_path)
    west, south, east, north = 6.661, 45.237, 6.665, 45.241
    dates = ["2023-06-05", "2023-07-20"]
    aoi = _aoi(west, south, east, north)

    lst = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=dates, spatial_extent=aoi, bands=["B04"]
    )
    mask = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=dates, spatial_extent=aoi, bands=["SCL"]
    )
    mask = mask >= 8
    lst_masked = lst.mask(mask).aggregate_temporal_period(period="day", reducer="max")
    udf = openeo.UDF(HEATWAVE_UDF)
    heatwave_loc = lst_masked.apply_dimension(process=udf, dimension="t")
    heatwave_loc = heatwave_loc.reduce_dimension(reducer="sum", dimension="t")
    job_options = {
        "executor-memory": "2G",
        "executor-memoryOverhead": "3G",
        "executor-cores": "2",
    }
    heatwave_job = heatwave_loc.execute_batch(
        title="Total Heatwave Days in the field",
        outputfile="Heatwave_NL.nc",
        job_options=job_options,
    )
    assert heatwave_job.status() == "finished"
    heatwave = xr.load_dataset("Heatwave_NL.nc")
    data = heatwave[["B04"]].to_array(dim="bands")[0]

    box = {"west": west, "south": south, "east": east, "north": north}
    raw = raw_bands(connection, ["B04", "SCL"], tmp_path / "raw.nc", bbox=box, dates=dates)
    # one product per day here, so the day maximum is the date's value
    days = raw["t"].values.astype("datetime64[D]")
    assert len(np.unique(days)) == len(days) >= 9
    cloudy = raw["SCL"].values >= 8  # SCL no-data compares false: not masked
    assert 0 < cloudy.mean() < 1
    lst_values = np.where(cloudy, np.nan, raw["B04"].values.astype(np.float64))
    want = _heatwave_days(lst_values)
    assert data.dtype == np.float32 and data.shape == want.shape
    np.testing.assert_array_equal(data.values, want)
    assert {0, 1, 3} <= set(np.unique(want)), "some pixels see several heatwave days"


def _stac_item(tiff: Path, href: str, path: Path) -> None:
    """The notebook's pystac Item for ``tiff`` (its ``item.validate()`` fetches schemas:
    left out offline), the asset at ``href``, written to ``path``."""
    from datetime import datetime

    import pystac
    import rasterio
    import rasterio.warp

    dt = datetime.fromisoformat("2023-06-01")
    with rasterio.open(tiff) as src:
        proj_bounds = list(src.bounds)
        left, bottom, right, top = rasterio.warp.transform_bounds(src.crs, "EPSG:4326", *src.bounds)
        item = pystac.Item(
            id="ndvi-example-stac-item",
            geometry={
                "type": "Polygon",
                "coordinates": [
                    [[left, bottom], [right, bottom], [right, top], [left, top], [left, bottom]]
                ],
            },
            bbox=[left, bottom, right, top],
            datetime=dt,
            properties={
                "proj:epsg": src.crs.to_epsg(),
                "proj:shape": src.shape,
                "proj:bbox": proj_bounds,
            },
            stac_extensions=[
                "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
                "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
            ],
            assets={
                "ndvi": pystac.Asset(
                    href=href,
                    title="Normalized Difference Vegetation Index",
                    extra_fields={"eo:bands": [{"name": "NDVI-band"}]},
                )
            },
        )
        item.save_object(dest_href=str(path), include_self_link=False)


@pytest.mark.slow
def test_load_stac_item_notebook_ndvi_file_loaded_back_from_its_item(
    connection: Any, tmp_path: Path
) -> None:
    """load-stac-item-example.ipynb: ``to_scl_dilation_mask`` with erosion on an SCL
    load with ``max_cloud_cover=95`` and a month as ``temporal_extent``, ``mask``,
    ``ndvi(target_band=...)``, ``filter_bands``, ``reduce_temporal("mean")``, a GTiff
    batch job; then the notebook's pystac Item for the downloaded file (the asset a file
    path, then the job's result URL) read back with ``load_stac`` of the Item (geopyspark-
    driver load_stac.py L987-998: one Item, its bands from ``eo:bands``)."""
    west, south, east, north = 6.6615, 45.2375, 6.6665, 45.2425
    extent = {"west": west, "south": south, "east": east, "north": north}
    scl = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=extent,
        temporal_extent="2023-06",
        bands=["SCL"],
        max_cloud_cover=95,
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
    collection = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=extent,
        temporal_extent="2023-06",
        bands=["B04", "B08"],
        max_cloud_cover=95,
    )
    collection = collection.mask(cloud_mask)
    collection = collection.ndvi(red="B04", nir="B08", target_band="NDVI-band").filter_bands(
        "NDVI-band"
    )
    collection = collection.reduce_temporal("mean")
    ndvi_job = collection.create_job(title="NDVI", out_format="GTiff")
    ndvi_file = tmp_path / "ndvi-file.tif"
    ndvi_job.start_and_wait(max_poll_interval=1).get_results().download_file(ndvi_file)
    got = read_tiff(ndvi_file)

    month = ["2023-06-01", "2023-07-01"]
    raw = raw_bands(
        connection, ["B04", "B08"], tmp_path / "raw.nc", bbox=extent, dates=month,
        max_cloud_cover=95,
    )  # fmt: skip
    cloudy = dilation_masks(connection, tmp_path / "scl.nc", raw, month, max_cloud_cover=95)
    np.testing.assert_array_equal(cloudy["t"].values, raw["t"].values)
    cloudy = cloudy.values
    r, n = raw["B04"].values.astype(np.float64), raw["B08"].values.astype(np.float64)
    with np.errstate(all="ignore"):
        ndvi = np.where(cloudy, np.nan, (n - r) / (n + r))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.nanmean(ndvi, axis=0)
    assert raw.sizes["t"] >= 5 and 0.05 < cloudy.mean() < 0.95
    assert got.shape == (1, *want.shape)
    np.testing.assert_allclose(got[0], want, rtol=1e-6, equal_nan=True)
    assert np.isfinite(want).mean() > 0.3

    # the notebook's STAC Item of that file, loaded back
    result_url = ndvi_job.get_results().get_asset("openEO.tif").href
    for name, href in (("path", str(ndvi_file)), ("url", result_url)):
        item_path = tmp_path / f"ndvi-example-stac-item-{name}.json"
        _stac_item(ndvi_file, href, item_path)
        datacube = connection.load_stac(str(item_path))
        datacube.download(tmp_path / f"ndvi-from-stac-{name}.tiff")
        again = read_tiff(tmp_path / f"ndvi-from-stac-{name}.tiff")
        np.testing.assert_array_equal(again, got)
        import rasterio

        with (
            rasterio.open(ndvi_file) as first,
            rasterio.open(tmp_path / f"ndvi-from-stac-{name}.tiff") as second,
        ):
            assert second.crs == first.crs and second.transform == first.transform
            assert second.descriptions == ("NDVI-band",)


def test_a_mask_applied_in_the_load_drops_the_dates_the_mask_lacks(
    connection: Any, tmp_path: Path
) -> None:
    """An SCL load with ``max_cloud_cover=95`` masking a data load without it, as in
    openeo/Whittaker.ipynb (here the introduction notebook's ``>=`` mask): Copernicus
    applies a mask right after a load while loading (python-driver evaluator.py
    L278-326) and keeps only the dates the mask has (geotrellis-extensions
    FileLayerProvider.scala ``applySpaceTimeMask`` L406-428, an inner join), so the 97 %
    cloudy product of 23 May is no date of the result, not a date left unmasked."""
    extent = {"west": 6.6615, "south": 45.2375, "east": 6.6665, "north": 45.2425}
    dates = ["2023-05-20", "2023-06-01"]
    scl = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=extent, temporal_extent=dates, bands=["SCL"],
        max_cloud_cover=95,
    )  # fmt: skip
    cloud_mask = scl >= 8
    s2 = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=extent, temporal_extent=dates, bands=["B04"]
    )
    s2.mask(cloud_mask).download(tmp_path / "masked.nc")
    with xr.open_dataset(tmp_path / "masked.nc", engine="h5netcdf") as ds:
        got = ds.load()

    every = raw_bands(connection, ["B04", "SCL"], tmp_path / "all.nc", bbox=extent, dates=dates)
    kept = raw_bands(
        connection, ["SCL"], tmp_path / "kept.nc", bbox=extent, dates=dates, max_cloud_cover=95
    )
    assert kept.sizes["t"] < every.sizes["t"], "a product above 95 % cloud cover"
    np.testing.assert_array_equal(got["t"].values, kept["t"].values)
    raw = every.sel(t=kept["t"].values)
    want = np.where(raw["SCL"].values >= 8, np.nan, raw["B04"].values)
    np.testing.assert_array_equal(got["B04"].values, want)
