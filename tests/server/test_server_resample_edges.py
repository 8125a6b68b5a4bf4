"""resample_spatial to a coarser pixel after the load, then save_result: the grid and
the edge values Copernicus produces (real data up to the extent's edges).

Copernicus loads whole 256-px layout tiles starting at the west and north edges of the
snapped extent (openeo-geotrellis-extensions DatacubeSupport.scala ``getLayout``
L42-97), resamples keeping that layout's west and south edges
(openeo-geopyspark-driver geopysparkdatacube.py ``_layout_for_resolution`` L1661-1692)
with nearest neighbour, and at save keeps the pixels the requested extent touches
(geopysparkdatacube.py L2093-2106, ``_collect_as_xarray`` L2782-2787). The expectation
here is computed in numpy from a 10 m download reaching further east and south.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.server_helpers import local_connection

BBOX = {"west": 6.660, "south": 45.236, "east": 6.668, "north": 45.244}
DATES = ["2023-06-10", "2023-07-05"]


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Iterator[Any]:
    data_dir = tmp_path_factory.mktemp("resample") / "data"
    with local_connection(data_dir, sample_catalog) as connected:
        yield connected


#: a box around BBOX whose 10 m pixels reach beyond every edge of its resampled grids
WIDER = {"west": 6.658, "south": 45.234, "east": 6.670, "north": 45.246}


def _load(
    connection: Any,
    bands: list[str],
    bbox: dict = BBOX,
    dates: list[str] = DATES,
    max_cloud_cover: float | None = 30,
) -> Any:
    return connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=bbox, temporal_extent=dates, bands=bands,
        max_cloud_cover=max_cloud_cover,
    )  # fmt: skip


def _downloaded(cube: Any, path: Path) -> xr.Dataset:
    cube.download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _at(values: xr.DataArray, x: Any, y: Any) -> xr.DataArray:
    """``values`` at the pixel centres ``x`` by ``y``."""
    return values.sel(x=xr.DataArray(x, dims="x"), y=xr.DataArray(y, dims="y"))


def _block_mean(values: xr.DataArray, x: Any, y: Any) -> Any:
    """(t, y, x) means of the four 10 m pixels of ``values`` in each 20 m pixel centred
    at ``x`` by ``y``, nodata skipped (GDAL's average)."""
    corners = [_at(values, x + dx, y + dy) for dx in (-5, 5) for dy in (-5, 5)]
    stack = np.stack([c.transpose("t", "y", "x").values for c in corners])
    with np.errstate(invalid="ignore"):
        return np.nanmean(stack, axis=0)


def _first(connection: Any, bbox: dict, path: Path, resolution: float | None = None) -> Any:
    cube = _load(connection, ["B04"], bbox).reduce_dimension("t", reducer="first")
    if resolution is not None:
        cube = cube.resample_spatial(resolution, method="near")
    return _downloaded(cube, path)["B04"]


def _utm_envelope(bbox: dict) -> tuple[float, float, float, float]:
    from pyproj import Transformer

    tr = Transformer.from_crs(4326, 32632, always_xy=True)
    xs, ys = tr.transform(
        [bbox["west"], bbox["east"], bbox["east"], bbox["west"]],
        [bbox["south"], bbox["south"], bbox["north"], bbox["north"]],
    )
    return min(xs), min(ys), max(xs), max(ys)


def test_resample_to_20_m_keeps_real_edge_pixels(connection: Any, tmp_path: Path) -> None:
    got = _first(connection, BBOX, tmp_path / "r20.nc", 20)
    wider = {**BBOX, "east": BBOX["east"] + 0.002, "south": BBOX["south"] - 0.002}
    ref = _first(connection, wider, tmp_path / "r10.nc")
    xmin, ymin, xmax, ymax = _utm_envelope(BBOX)
    west, north = 10 * math.floor(xmin / 10), 10 * math.ceil(ymax / 10)
    cols, rows = math.ceil((xmax - west) / 20), math.ceil((north - ymin) / 20)
    x = west + 20 * np.arange(cols) + 10
    y = north - 20 * np.arange(rows) - 10
    assert (got.sizes["y"], got.sizes["x"]) == (rows, cols) == (46, 33)
    np.testing.assert_allclose(got["x"].values, x)
    np.testing.assert_allclose(got["y"].values, y)
    # nearest neighbour from the 20 m centre, which lies on 10 m pixel corners:
    # the 10 m pixel to its south-east (geotrellis maps x and y to the grid by floor)
    want = ref.sel(x=xr.DataArray(x + 5, dims="x"), y=xr.DataArray(y - 5, dims="y")).values
    assert np.isfinite(want).all()
    np.testing.assert_array_equal(got.transpose("y", "x").values, want)


def test_resample_right_after_the_load_is_on_multiples_of_20_m(
    connection: Any, tmp_path: Path
) -> None:
    """With no blocker between the load and resample_spatial, Copernicus resamples in
    the load, whose extent is snapped outward to multiples of 20 m (python-driver
    load_params.py ``_align_extent`` L98-107; geotrellis-extensions DatacubeSupport.scala
    ``getLayout`` L58-62): here the 10 m load's west edge, 316330, is not one, so the
    grid differs from the one resampled on the cube (the test above)."""
    cube = _load(connection, ["B04"]).resample_spatial(20, method="near")
    got = _downloaded(cube.reduce_dimension("t", reducer="first"), tmp_path / "pushed.nc")["B04"]
    ref = _first(connection, WIDER, tmp_path / "r10.nc")
    xmin, ymin, xmax, ymax = _utm_envelope(BBOX)
    assert 10 * math.floor(xmin / 10) % 20 == 10
    west, east = 20 * math.floor(xmin / 20), 20 * math.ceil(xmax / 20)
    south, north = 20 * math.floor(ymin / 20), 20 * math.ceil(ymax / 20)
    x = np.arange(west, east, 20) + 10
    y = north - 20 * np.arange((north - south) // 20) - 10
    np.testing.assert_allclose(got["x"].values, x)
    np.testing.assert_allclose(got["y"].values, y)
    # GDAL's nearest from the 20 m centre on 10 m pixel corners: the south-east pixel
    want = _at(ref, x + 5, y - 5).values
    assert np.isfinite(want).all()
    np.testing.assert_array_equal(got.transpose("y", "x").values, want)


def test_an_ndvi_before_a_pushed_resample_computes_on_the_resampled_bands(
    connection: Any, tmp_path: Path
) -> None:
    """``ndvi`` is no blocker: Copernicus resamples the load (2 x 2 means of the int16
    bands, whole numbers) and computes the NDVI of those; the NDVI of means differs from
    the mean of NDVIs (``backends/local/resample_pushdown.py``)."""
    cube = _load(connection, ["B04", "B08"]).ndvi().resample_spatial(20, method="average")
    got = _downloaded(cube, tmp_path / "ndvi20.nc")["var"]
    raw = _downloaded(_load(connection, ["B04", "B08"], WIDER), tmp_path / "raw10.nc")
    x, y = got["x"].values, got["y"].values

    red, nir = (np.floor(_block_mean(raw[band], x, y) + 0.5) for band in ("B04", "B08"))
    want = ((nir - red) / (nir + red)).astype(np.float32)
    values = got.transpose("t", "y", "x").values
    assert np.isfinite(want).mean() > 0.5
    np.testing.assert_array_equal(np.isnan(values), np.isnan(want))
    np.testing.assert_allclose(values, want, rtol=0, atol=1e-6)
    # the mean of the 10 m NDVIs (the resample on the NDVI cube) is another number
    other = _block_mean((raw["B08"] - raw["B04"]) / (raw["B08"] + raw["B04"]), x, y)
    assert np.nanmax(np.abs(other - want)) > 1e-3


def test_a_20_m_band_resampled_to_10_m_is_interpolated_from_its_file(
    connection: Any, tmp_path: Path, sample_catalog: Path
) -> None:
    """A pushed ``resample_spatial(10, "bilinear")`` of B05 (20 m files): Copernicus reads
    the file with GDAL's bilinear at 10 m, into its integer type; here the same, checked
    against rasterio warping the item's own file, not the load's nearest 10 m copies."""
    import pystac
    import rasterio
    from affine import Affine
    from rasterio.warp import Resampling, reproject

    from hybrid.stac.providers import detect_layout

    day = "2023-06-12"
    path = tmp_path / "b05.nc"
    cube = _load(connection, ["B05"], dates=[day, "2023-06-13"], max_cloud_cover=None)
    got = _downloaded(cube.resample_spatial(10, method="bilinear"), path)["B05"].isel(t=0)
    items = [
        item
        for item in pystac.read_file(str(sample_catalog)).get_items(recursive=True)
        if item.datetime is not None and item.datetime.date().isoformat() == day
    ]
    assert len(items) == 1
    item = items[0]
    layout = detect_layout(item)
    href = item.assets[layout.asset_key(item, "B05")].get_absolute_href()
    x, y = got["x"].values, got["y"].values
    warped = np.zeros((y.size, x.size), np.uint16)
    with rasterio.open(href) as src:
        reproject(
            source=rasterio.band(src, 1), destination=warped, src_nodata=0, dst_nodata=0,
            dst_transform=Affine(10, 0, x[0] - 5, 0, -10, y[0] + 5), dst_crs=src.crs,
            resampling=Resampling.bilinear,
        )  # fmt: skip
    want = np.where(warped == 0, np.nan, warped + layout.dn_offset(item, "B05"))
    values = got.transpose("y", "x").values
    assert np.isfinite(want).all()
    np.testing.assert_array_equal(values, want)
    # the load's nearest copies of the 20 m pixels are another image
    loaded = _downloaded(cube, tmp_path / "b05_10.nc")["B05"].isel(t=0)
    nearest = loaded.sel(x=got["x"], y=got["y"]).transpose("y", "x").values
    assert (values != nearest).mean() > 0.5


def test_a_20_m_band_resampled_onto_a_10_m_cube_is_interpolated_from_its_file(
    connection: Any, tmp_path: Path, sample_catalog: Path
) -> None:
    """``resample_cube_spatial(B05, B04 cube, "bilinear")`` with no blocker between the
    B05 load and it: Copernicus's dry run hands it to the load (the "resample" rule,
    dry_run.py L105-115, L155-171: the target's metadata, 10 m, and the method), which
    reads B05's 20 m file with GDAL's bilinear at 10 m, as a pushed resample_spatial; it
    was the load's nearest 10 m copies, unchanged by a resample onto the same grid."""
    day = "2023-06-12"
    dates = [day, "2023-06-13"]
    target = _load(connection, ["B04"], dates=dates, max_cloud_cover=None)
    data = _load(connection, ["B05"], dates=dates, max_cloud_cover=None)
    cube = data.resample_cube_spatial(target, method="bilinear")
    got = _downloaded(cube, tmp_path / "rcs.nc")["B05"].isel(t=0)
    pushed = data.resample_spatial(10, method="bilinear")
    want = _downloaded(pushed, tmp_path / "rs.nc")["B05"].isel(t=0)
    values = got.transpose("y", "x").values
    assert np.isfinite(values).all()
    np.testing.assert_array_equal(values, want.sel(x=got["x"], y=got["y"]).transpose("y", "x"))
    loaded = _downloaded(data, tmp_path / "b05_10.nc")["B05"].isel(t=0)
    nearest = loaded.sel(x=got["x"], y=got["y"]).transpose("y", "x").values
    assert (values != nearest).mean() > 0.5
