"""More of the Copernicus backend developers' own integration tests
(Open-EO/openeo-geopyspark-integrationtests ``tests/test_integration.py``) replayed with
the openeo client against ``hybrid serve``, the extent and dates moved into the embedded
sample (see test_geopyspark_integrationtests_cubes.py for the conventions). The published UDF
code is read from the checkout named by ``HYBRID_GEOPYSPARK_INTEGRATIONTESTS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from tests.workflows.geopyspark_published import DAY, INTEGRATIONTESTS_ENV, NEEDS_CHECKOUT, REPO
from tests.workflows.published import published_text
from tests.workflows.raw import BBOX, raw_bands, read_tiff

pytestmark = NEEDS_CHECKOUT


def test_mean_of_one_point_is_its_pixel(connection: Any, tmp_path: Path) -> None:
    """test_aggregate_spatial_point_handling (L2020-2031, ``TERRASCOPE_S2_TOC_V2`` as
    ``SENTINEL2_L2A``, the point and dates moved into the sample): ``aggregate_spatial``
    ``mean`` of a bare shapely ``Point`` answers ``{date: [[B04, B03, B02]]}``, the
    values of the pixel holding the point."""
    import pyproj
    from shapely.geometry import Point

    raw = raw_bands(connection, ["B04", "B03", "B02"], tmp_path / "raw.nc", dates=[DAY, DAY])
    xs, ys = raw["x"].values, raw["y"].values
    to_lonlat = pyproj.Transformer.from_crs(
        pyproj.CRS.from_wkt(raw["crs"].attrs["crs_wkt"]), 4326, always_xy=True
    ).transform
    data_cube = connection.load_collection(
        "SENTINEL2_L2A", bands=["B04", "B03", "B02"], temporal_extent=[DAY, "2023-06-13"]
    )
    means = data_cube.aggregate_spatial(Point(to_lonlat(xs[25], ys[33])), "mean").execute()
    want = [float(raw[band].values[0][33, 25]) for band in ("B04", "B03", "B02")]
    assert means == {f"{DAY}T00:00:00Z": [want]}


def _weighted_composite(connection: Any, udf: str, dates: list[str]) -> Any:
    """The published graph of test_ndvi_weighted_composite on BBOX over ``dates``: a
    cloud-distance weight (the scipy UDF in ``apply_neighborhood``) times a clipped NDVI
    weight, the masked B02/B03/B04 weighted, summed per month and divided by the summed
    weight."""
    import openeo
    from openeo.processes import array_create, clip

    def load(bands: list[str]) -> Any:
        return connection.load_collection(
            "SENTINEL2_L2A", spatial_extent=dict(BBOX), temporal_extent=dates,
            bands=bands, max_cloud_cover=70,
        ).resample_spatial(20)  # fmt: skip

    def by_weight(data: Any, op: Any) -> Any:
        return array_create([op(data[i], data[3]) for i in range(3)] + [data[3]])

    scl = load(["SCL"])
    px = [{"dimension": d, "unit": "px", "value": 256} for d in ("x", "y")]
    overlap = [{"dimension": d, "unit": "px", "value": 16} for d in ("x", "y")]
    cloud_weight = scl.apply_neighborhood(
        process=openeo.UDF(udf, runtime="Python"), size=px, overlap=overlap
    ).rename_labels(dimension="bands", target=["cloud_weight"])
    binary = (scl == 0) | (scl == 3) | (scl == 8) | (scl == 9) | (scl == 10)
    ndvi = load(["B04", "B08"]).mask(binary).ndvi(nir="B08", red="B04", target_band="ndvi_weight")
    ndvi_weight = ndvi.apply(lambda x: clip(0.8 * x + 0.2, 0.2, 1))
    total_weight = (
        cloud_weight.merge_cubes(ndvi_weight)
        .reduce_dimension(dimension="bands", reducer="product")
        .add_dimension(name="bands", label="total_weight", type="bands")
    )
    rgb = load(["B02", "B03", "B04"]).mask(binary).merge_cubes(total_weight)
    rgb = rgb.apply_dimension(dimension="bands", process=lambda d: by_weight(d, lambda v, w: v * w))
    monthly = rgb.aggregate_temporal_period("month", "sum")
    composite = monthly.apply_dimension(
        dimension="bands", process=lambda d: by_weight(d, lambda v, w: v / w)
    )
    return composite.filter_bands(["B02", "B03", "B04"])


def _grid_shape(crs_wkt: str, resolution: float) -> tuple[int, int]:
    """(rows, columns) of BBOX's outline in ``crs_wkt`` snapped outwards to a
    ``resolution`` grid: Copernicus's (141, 91) for its 0.025 degree box at 20 m."""
    import math

    import pyproj

    to_crs = pyproj.Transformer.from_crs(4326, pyproj.CRS.from_wkt(crs_wkt), always_xy=True)
    lons, lats = (
        np.linspace(BBOX["west"], BBOX["east"], 50),
        np.linspace(BBOX["south"], BBOX["north"], 50),
    )
    outline = [(x, y) for x in lons for y in (lats[0], lats[-1])] + [
        (x, y) for y in lats for x in (lons[0], lons[-1])
    ]
    xs, ys = to_crs.transform(*zip(*outline, strict=True))

    def cells(low: float, high: float) -> int:
        return math.ceil(high / resolution) - math.floor(low / resolution)

    return cells(min(ys), max(ys)), cells(min(xs), max(xs))


def test_ndvi_weighted_composite_lies_within_the_clear_values(
    connection: Any, tmp_path: Path
) -> None:
    """test_ndvi_weighted_composite (L2345-2469, Copernicus's box and August 2020 as
    the sample's box and June 2023): the batch job's GTiff is one month of three bands
    ``B02, B03, B04`` on the 20 m grid snapped around the box (as Copernicus's shape),
    without NaN, each pixel a weighted mean of the clear (SCL not 0/3/8/9/10) values of
    its dates at 20 m, so between their minimum and maximum, and no single date's value
    (Copernicus asserts its medians and means on its own data)."""
    udf = published_text(INTEGRATIONTESTS_ENV, "tests/data/udfs/udf_distance_weight.py", REPO)
    dates = ["2023-06-10", "2023-07-01"]
    job = _weighted_composite(connection, udf, dates).execute_batch(
        out_format="GTiff", max_poll_interval=1
    )
    [asset] = job.get_results().get_assets()
    asset.download(tmp_path / "composite.tif")
    got = read_tiff(tmp_path / "composite.tif")
    bands = ["B02", "B03", "B04"]
    connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=dict(BBOX), temporal_extent=dates,
        bands=[*bands, "SCL"], max_cloud_cover=70,
    ).resample_spatial(20).download(tmp_path / "raw.nc", format="netCDF")  # fmt: skip
    with xr.open_dataset(tmp_path / "raw.nc", engine="h5netcdf") as ds:
        raw = ds.load()
    assert got.shape == (3, *_grid_shape(raw["crs"].attrs["crs_wkt"], 20))
    assert not np.isnan(got).any()
    cloudy = raw["SCL"].isin([0, 3, 8, 9, 10]).values
    for i, band in enumerate(bands):
        clear = np.where(cloudy, np.nan, raw[band].values.astype(np.float64))
        assert got.shape[1:] == clear.shape[1:]
        low, high = np.nanmin(clear, axis=0), np.nanmax(clear, axis=0)
        assert ((got[i] >= low - 1e-3) & (got[i] <= high + 1e-3)).all(), band
        assert not any(np.array_equal(got[i], day) for day in clear)
