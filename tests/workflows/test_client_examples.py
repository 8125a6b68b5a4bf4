"""Scripts of the openeo-python-client repository's ``examples/archive/`` whose
Sentinel-2 client code is still valid API, through the openeo client against ``hybrid
serve``, changed only in URL, AOI, dates and collection id: ``TERRASCOPE_S2_TOC_V2``
becomes ``SENTINEL2_L2A`` (its bands B02/B03/B04/B08/SCL keep their names there).

Each test holds the script's client calls (the source path is in its docstring) and
checks the result against numpy on the raw bands downloaded from the same server.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from tests.workflows.raw import BBOX, pixels_inside, raw_bands, read_tiff


def _nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _f64(raw: xr.Dataset, band: str) -> np.ndarray:
    out: np.ndarray = raw[band].values.astype(np.float64)
    return out


def _web_mercator(bbox: dict[str, float]) -> dict[str, Any]:
    from pyproj import Transformer

    to = Transformer.from_crs(4326, 3857, always_xy=True).transform
    west, south = to(bbox["west"], bbox["south"])
    east, north = to(bbox["east"], bbox["north"])
    return {"west": west, "south": south, "east": east, "north": north, "crs": "EPSG:3857"}


def test_bandmath_example_same_day_extent(connection: Any, tmp_path: Path) -> None:
    """examples/archive/bandmath_example.py: a load with ``temporal_extent`` [d, d] and no
    spatial extent, ``filter_bbox`` after it, EVI from ``band()`` arithmetic, GTIFF.
    Copernicus reads [d, d] as the whole day d (openeo-geotrellis-extensions
    file/FileRDDFactory.scala L43-45); the end is excluded elsewhere."""
    sentinel2_data_cube = connection.load_collection(
        "SENTINEL2_L2A",
        temporal_extent=["2023-06-07", "2023-06-07"],
        bands=["B02", "B04", "B08"],
    )
    sentinel2_data_cube = sentinel2_data_cube.filter_bbox(**BBOX)
    B02 = sentinel2_data_cube.band("B02")
    B04 = sentinel2_data_cube.band("B04")
    B08 = sentinel2_data_cube.band("B08")
    evi_cube = (2.5 * (B08 - B04)) / ((B08 + 6.0 * B04 - 7.5 * B02) + 1.0)
    evi_cube.download(tmp_path / "bandmath_example.tiff", format="GTIFF")

    got = read_tiff(tmp_path / "bandmath_example.tiff")
    raw = raw_bands(
        connection, ["B02", "B04", "B08"], tmp_path / "raw.nc", dates=["2023-06-07", "2023-06-08"]
    )
    assert raw.sizes["t"] == 1 and got.shape == (1, raw.sizes["y"], raw.sizes["x"])
    b02, b04, b08 = (_f64(raw, b)[0] for b in ("B02", "B04", "B08"))
    with np.errstate(all="ignore"):
        expected = (2.5 * (b08 - b04)) / ((b08 + 6.0 * b04 - 7.5 * b02) + 1.0)
    assert np.isfinite(got).mean() > 0.9
    np.testing.assert_allclose(got[0], expected, rtol=1e-5, atol=1e-6, equal_nan=True)


def test_ndvi_composite_flat_intervals_over_a_dilated_scl_mask(
    connection: Any, tmp_path: Path
) -> None:
    """examples/archive/ndvi_composite.py: loads without temporal extent, an SCL mask
    eroded and dilated with two 27 x 27 disk ``apply_kernel`` (``selem.disk(13)``, built
    here with numpy as skimage is not installed), ``add_dimension`` of type bands, ``mask``,
    and ``aggregate_temporal`` with the script's flat list of interval bounds (two
    overlapping intervals), which Copernicus pairs (openeo-geopyspark-driver
    geopysparkdatacube.py L965-972)."""
    yy, xx = np.mgrid[-13:14, -13:14]
    disk = (xx**2 + yy**2 <= 13**2).astype(np.uint8)  # skimage.morphology.disk(13)
    bbox = BBOX

    sentinel2_data_cube = connection.load_collection("SENTINEL2_L2A", bands=["B04", "B08"])
    sentinel2_data_cube = sentinel2_data_cube.filter_bbox(**bbox)
    ndvi = sentinel2_data_cube.ndvi()
    scl = connection.load_collection("SENTINEL2_L2A", bands=["SCL"]).filter_bbox(**bbox)
    classification = scl.band("SCL")
    scl_mask = ~(
        (classification == 0) | (classification == 1) | (classification == 3)
        | (classification == 8) | (classification == 9) | (classification == 10)
        | (classification == 11)
    )  # fmt: skip
    scl_mask = scl_mask.apply_kernel(disk)
    scl_mask = scl_mask < 0.01
    scl_mask = scl_mask.apply_kernel(disk)
    scl_mask = scl_mask.add_dimension(name="bands", label="scl", type="bands")
    masked = ndvi.mask(scl_mask)
    start_date, end_date = "2023-06-10", "2023-07-05"  # not 9 June (tests/workflows/raw.py)
    composited_ndvi = masked.aggregate_temporal(
        intervals=[start_date, "2023-06-25", "2023-06-15", end_date],
        labels=["2023-06-15", "2023-06-25"],
        reducer=lambda d: d.mean(),
        dimension="t",
    )
    composited_ndvi.filter_temporal(start_date, end_date).download(
        tmp_path / "composite.nc", format="NetCDF"
    )
    masked.filter_temporal(start_date, end_date).download(tmp_path / "masked.nc", format="NetCDF")

    composite, kept = _nc(tmp_path / "composite.nc"), _nc(tmp_path / "masked.nc")
    assert [str(t)[:10] for t in composite["t"].values] == ["2023-06-15", "2023-06-25"]
    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", dates=[start_date, end_date])
    r, n = _f64(raw, "B04"), _f64(raw, "B08")
    with np.errstate(all="ignore"):
        raw_ndvi = (n - r) / (n + r)
    masked_ndvi = next(v for k, v in kept.data_vars.items() if k != "crs").values
    assert masked_ndvi.shape == raw_ndvi.shape
    # the mask only removes pixels: what is left is the raw NDVI
    left = np.isfinite(masked_ndvi)
    assert 0.2 < left.mean() < np.isfinite(raw_ndvi).mean()
    np.testing.assert_allclose(masked_ndvi[left], raw_ndvi[left], rtol=1e-5, atol=1e-6)
    days = np.asarray(kept["t"].values).astype("datetime64[D]")
    got = next(v for k, v in composite.data_vars.items() if k != "crs").values
    for i, (lo, hi) in enumerate(((start_date, "2023-06-25"), ("2023-06-15", end_date))):
        inside = (days >= np.datetime64(lo)) & (days < np.datetime64(hi))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = np.nanmean(masked_ndvi[inside], axis=0)
        np.testing.assert_allclose(got[i], expected, rtol=1e-5, atol=1e-6, equal_nan=True)


def test_compositing_notebook_web_mercator_max_and_point_mean(
    connection: Any, tmp_path: Path
) -> None:
    """examples/archive/notebooks/Compositing.ipynb: a bare load, ``filter_temporal`` then
    ``filter_bbox`` in EPSG:3857, a normalised difference of B03 and B02 from ``band()``,
    ``max_time`` as GTiff, and ``polygonal_mean_timeseries`` of a 0.0001-degree box (about
    8 x 11 m) run with ``execute()``: the mean of the pixels whose centre lies in it, as
    Copernicus rasterizes polygons (Rasterizer.Options.DEFAULT, pixel centres:
    openeo-geotrellis-extensions layers/LayerProvider.scala L46)."""
    from openeo.rest.conversions import timeseries_json_to_pandas
    from shapely.geometry import box

    bbox = _web_mercator(BBOX)
    s2_radiometry = connection.load_collection("SENTINEL2_L2A")
    timeseries = s2_radiometry.filter_temporal("2023-06-01", "2023-06-30").filter_bbox(
        west=bbox["west"], east=bbox["east"], south=bbox["south"], north=bbox["north"],
        crs="EPSG:3857",
    )  # fmt: skip
    band_red = timeseries.band("B02")
    band_nir = timeseries.band("B03")
    ndvi_timeseries = (band_nir - band_red) / (band_nir + band_red)
    composite = ndvi_timeseries.max_time()
    composite.download(str(tmp_path / "ndvi.geotiff"), format="GTiff")
    x, y = (6.66403, 45.24003)
    point_area = box(x, y, x + 0.0001, y + 0.0001)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the client's UserDeprecationWarning
        point_timeseries = ndvi_timeseries.polygonal_mean_timeseries(point_area).execute()
    df = timeseries_json_to_pandas(point_timeseries)

    raw = raw_bands(
        connection, ["B02", "B03"], tmp_path / "raw.nc", bbox=bbox,
        dates=["2023-06-01", "2023-06-30"],
    )  # fmt: skip
    b02, b03 = _f64(raw, "B02"), _f64(raw, "B03")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nd = (b03 - b02) / (b03 + b02)
        expected_max = np.nanmax(nd, axis=0)
    got = read_tiff(tmp_path / "ndvi.geotiff")
    assert got.shape == (1, *expected_max.shape)
    np.testing.assert_allclose(got[0], expected_max, rtol=1e-5, atol=1e-6, equal_nan=True)

    inside = pixels_inside(raw, point_area)
    assert inside.sum() >= 1
    dates = [str(t)[:10] for t in raw["t"].values]
    assert [str(d)[:10] for d in df.index] == dates
    expected = [float(np.nanmean(nd[i][inside])) for i in range(len(dates))]
    np.testing.assert_allclose(df.to_numpy(dtype=float).ravel(), expected, rtol=1e-5)


def test_aggregate_spatial_polygonal_mean_timeseries_of_ndvi(
    connection: Any, tmp_path: Path
) -> None:
    """examples/archive/aggregate_spatial.py: the load's bbox is the polygon's bounds,
    ``ndvi()``, ``polygonal_mean_timeseries(polygon).execute()`` and
    ``timeseries_json_to_pandas``: per date the mean NDVI of the pixels whose centre lies
    in the triangle."""
    import shapely.geometry
    from openeo.rest.conversions import timeseries_json_to_pandas

    w, s = BBOX["west"], BBOX["south"]
    polygon = shapely.geometry.Polygon([(w, s), (w + 0.004, s + 0.008), (w + 0.008, s)])
    bbox = polygon.bounds
    warnings.filterwarnings("ignore", message=".*polygonal_mean_timeseries")
    result = (
        connection.load_collection(
            "SENTINEL2_L2A",
            temporal_extent=["2023-06-10", "2023-07-05"],
            spatial_extent=dict(zip(["west", "south", "east", "north"], bbox, strict=True)),
            bands=["B04", "B08"],
        )
        .ndvi()
        .polygonal_mean_timeseries(polygon)
        .execute()
    )
    df = timeseries_json_to_pandas(result)

    extent = dict(zip(["west", "south", "east", "north"], bbox, strict=True))
    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", bbox=extent)
    r, n = _f64(raw, "B04"), _f64(raw, "B08")
    with np.errstate(all="ignore"):
        nd = (n - r) / (n + r)
    inside = pixels_inside(raw, polygon)
    assert 0.3 < inside.mean() < 0.7
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = [float(np.nanmean(nd[i][inside])) for i in range(raw.sizes["t"])]
    assert [str(d)[:10] for d in df.index] == [str(t)[:10] for t in raw["t"].values]
    np.testing.assert_allclose(
        df.to_numpy(dtype=float).ravel(), expected, rtol=1e-5, equal_nan=True
    )
