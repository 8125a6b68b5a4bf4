"""Tests of the independent reference implementation on tiny hand-made GeoTIFF catalogs."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine
from rasterio.warp import transform_bounds

from tests.reference import ReferenceResult, reference_ndvi
from tests.reference.catalog import band_offset
from tests.reference.grid import make_grid, snap_outward, target_epsg
from tests.reference.load import warp_band
from tests.reference.processes import apply_kernel, cloud_mask, ndvi
from tests.reference.temporal import aggregate, period_intervals, reduce_stack
from tests.reference.workflow import gaussian_kernel

# tiny AOI (~80 m x 70 m) in UTM 32N; its 10 m grid, worked out below in test_grid_tiny_aoi
AOI = {
    "type": "Polygon",
    "coordinates": [
        [[6.660, 45.240], [6.661, 45.240], [6.661, 45.2406], [6.660, 45.2406], [6.660, 45.240]]
    ],
}
OUT_BOUNDS = (316340.0, 5012270.0, 316430.0, 5012350.0)  # 9 x 8 pixels
# item in the target CRS (32632): 10 m bands 40 x 40 from this origin, SCL 20 m 20 x 20
A_X0, A_Y0 = 316200.0, 5012500.0
# item in the neighbouring zone (32631) covering the whole load extent
B_X0, B_Y0 = 787000.0, 5016500.0

Bands = dict[str, tuple[np.ndarray, Any]]


def from_origin(x0: float, y0: float, size: float) -> Affine:
    return Affine(size, 0.0, x0, 0.0, -size, y0)


def _tif(path: Path, array: np.ndarray, transform: Any, epsg: int) -> str:
    profile = {"driver": "GTiff", "dtype": array.dtype.name, "count": 1, "nodata": 0}
    profile |= {"width": array.shape[1], "height": array.shape[0], "crs": f"EPSG:{epsg}"}
    with rasterio.open(path, "w", transform=transform, **profile) as dst:
        dst.write(array, 1)
    return path.name


class Catalog:
    """A static STAC collection written to a temp dir; items added one by one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.links: list[dict[str, str]] = []

    @property
    def path(self) -> Path:
        collection = {"type": "Collection", "id": "s2", "stac_version": "1.0.0"}
        collection["links"] = self.links  # type: ignore[assignment]
        path = self.root / "collection.json"
        path.write_text(json.dumps(collection))
        return path

    def add(
        self,
        item_id: str,
        when: str,
        cloud: float,
        *,
        epsg: int,
        tile: str,
        bands: Bands,
        layout: str = "pc",
        baseline: str = "05.09",
        updated: str | None = None,
        footprint_deg: float | None = None,
    ) -> None:
        """``footprint_deg``: a square item geometry of that half-size (degrees) around the
        raster's centre instead of none (the per-key overlap rule reads footprints)."""
        folder = self.root / item_id
        folder.mkdir()
        keys = {
            "pc": {"B04": "B04", "B08": "B08", "SCL": "SCL"},
            "es": {"B04": "red", "B08": "nir", "SCL": "scl"},
            "cdse": {"B04": "B04_10m", "B08": "B08_10m", "SCL": "SCL_20m"},
        }[layout]
        assets: dict[str, Any] = {}
        for band, (array, transform) in bands.items():
            asset: dict[str, Any] = {
                "href": "./" + _tif(folder / f"{band}.tif", array, transform, epsg)
            }
            if layout == "es" and band != "SCL":
                asset["raster:bands"] = [{"nodata": 0, "scale": 0.0001, "offset": -0.1}]
            assets[keys[band]] = asset
        red, transform = bands["B04"]
        h, w = red.shape
        left, top = transform.c, transform.f
        bbox = transform_bounds(f"EPSG:{epsg}", "EPSG:4326", left, top - 10 * h, left + 10 * w, top)
        props: dict[str, Any] = {"datetime": when, "eo:cloud_cover": cloud, "proj:epsg": epsg}
        if updated is not None:
            props["updated"] = updated
        geometry = None
        if footprint_deg is not None:
            cx, cy, r = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2, footprint_deg
            ring = [[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r], [cx - r, cy + r]]
            geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
            bbox = (cx - r, cy - r, cx + r, cy + r)
        props |= {
            "pc": {"s2:mgrs_tile": tile, "s2:processing_baseline": baseline},
            "es": {"grid:code": f"MGRS-{tile}"},
            "cdse": {"tilename": f"T{tile}", "processing:version": baseline},
        }[layout]
        item: dict[str, Any] = {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": item_id,
            "bbox": list(bbox),
        }
        item |= {"geometry": geometry, "properties": props, "assets": assets, "links": []}
        (folder / "item.json").write_text(json.dumps(item))
        self.links.append({"rel": "item", "href": f"./{item_id}/item.json"})

    def add_a(self, item_id: str, when: str, cloud: float, **kw: Any) -> None:
        """An item in EPSG:32632 with the default A rasters (overridable via kw)."""
        bands = a_bands(**{k: kw.pop(k) for k in ("red", "nir", "scl") if k in kw})
        self.add(item_id, when, cloud, epsg=32632, tile="32TLR", bands=bands, **kw)

    def add_b(self, item_id: str, when: str, cloud: float, **kw: Any) -> None:
        """An item in EPSG:32631, constant DN red 1400 / nir 2400 / SCL 4."""
        t10, t20 = from_origin(B_X0, B_Y0, 10), from_origin(B_X0, B_Y0, 20)
        bands: Bands = {
            "B04": (np.full((60, 60), 1400, np.uint16), t10),
            "B08": (np.full((60, 60), 2400, np.uint16), t10),
            "SCL": (np.full((30, 30), 4, np.uint8), t20),
        }
        self.add(item_id, when, cloud, epsg=32631, tile="31TGL", bands=bands, **kw)


def a_bands(
    red: np.ndarray | None = None, nir: np.ndarray | None = None, scl: np.ndarray | None = None
) -> Bands:
    rows, cols = np.mgrid[0:40, 0:40]
    t10, t20 = from_origin(A_X0, A_Y0, 10), from_origin(A_X0, A_Y0, 20)
    return {
        "B04": (red if red is not None else (1100 + cols).astype(np.uint16), t10),
        "B08": (nir if nir is not None else (3000 + 10 * rows).astype(np.uint16), t10),
        "SCL": (scl if scl is not None else np.full((20, 20), 4, np.uint8), t20),
    }


def a_ndvi(res: ReferenceResult) -> np.ndarray:
    """NDVI of the default A rasters (harmonised with -1000) at the result's pixel centres."""
    cols = ((res.x - A_X0) // 10).astype(int)[None, :]
    rows = ((A_Y0 - res.y) // 10).astype(int)[:, None]
    red, nir = 100.0 + cols, 2000.0 + 10 * rows
    return ((nir - red) / (nir + red)).astype(np.float32)


B_NDVI = np.float32((1400 - 400) / (1400 + 400))  # B harmonised: red 400, nir 1400


@pytest.fixture
def cat(tmp_path: Path) -> Catalog:
    return Catalog(tmp_path)


# --- grid ----------------------------------------------------------------------------------


def test_grid_tiny_aoi() -> None:
    # corners in EPSG:32632: x 316344.12..316424.54, y 5012273.35..5012342.28 -> snapped outward
    grid = make_grid(AOI, kernel_size=11)
    assert grid.epsg == 32632
    assert grid.bounds == OUT_BOUNDS
    assert (grid.width, grid.height, grid.buffer) == (9, 8, 6)
    assert grid.load_bounds == (316280.0, 5012210.0, 316490.0, 5012410.0)
    assert grid.load_shape == (20, 21)
    assert make_grid(AOI, kernel_size=7).buffer == 4


def test_grid_seed_aoi_polygon_reduced_to_bbox() -> None:
    ring = [[6.654445, 45.2258959], [6.675134, 45.2258959], [6.675134, 45.2641447]]
    triangle = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
    }
    grid = make_grid({"type": "FeatureCollection", "features": [triangle]}, kernel_size=11)
    assert (grid.epsg, grid.bounds) == (32632, (315860.0, 5010670.0, 317610.0, 5014980.0))


def test_snap_and_utm_zone() -> None:
    assert snap_outward((16.0, -14.0, 20.0, 20.5)) == (10.0, -20.0, 20.0, 30.0)
    assert target_epsg((5.9, 45.0, 6.3, 45.1)) == 32632  # representative point x = 6.1
    assert target_epsg((5.5, 45.0, 6.1, 45.1)) == 32631
    assert target_epsg((-70.0, -33.5, -69.9, -33.4)) == 32719
    from hybrid.grid import utm_epsg as hybrid_utm_epsg
    from tests.reference.grid import utm_epsg

    for lon, lat in [(180.0, 10.0), (-180.0, -10.0), (179.99, 0.0), (6.0, 45.0), (5.99, 45.0)]:
        assert hybrid_utm_epsg(lon, lat) == utm_epsg(lon, lat), (lon, lat)
    assert utm_epsg(180.0, 10.0) == 32601


def test_aligned_warp_is_a_window_read(tmp_path: Path) -> None:
    grid = make_grid(AOI, kernel_size=11)  # load grid starts at A's column 8, row 9
    red, t10 = a_bands()["B04"]
    classes = ((np.arange(400) + 46) % 256).astype(np.uint8).reshape(20, 20)  # 0 at [10, 10]
    red_path = tmp_path / _tif(tmp_path / "red.tif", red, t10, 32632)
    scl_path = tmp_path / _tif(tmp_path / "scl.tif", classes, a_bands()["SCL"][1], 32632)
    np.testing.assert_array_equal(warp_band(str(red_path), grid), red[9:29, 8:29])
    expected = np.repeat(np.repeat(classes, 2, axis=0), 2, axis=1)[9:29, 8:29].astype(float)
    assert (expected == 0).sum() == 4
    expected[expected == 0] = np.nan  # stored 0 is nodata
    np.testing.assert_array_equal(warp_band(str(scl_path), grid), expected)


# --- catalog: offsets, filters, duplicates, mosaic -------------------------------------------


def test_band_offset_rules() -> None:
    es_asset = {"raster:bands": [{"scale": 0.0001, "offset": -0.1}]}
    assert band_offset({"properties": {}}, es_asset) == pytest.approx(-1000.0)
    for baseline, offset in [("03.01", 0.0), ("04.00", -1000.0), ("05.09", -1000.0)]:
        assert band_offset({"properties": {"s2:processing_baseline": baseline}}, {}) == offset
        assert band_offset({"properties": {"processing:version": baseline}}, {}) == offset


def test_old_and_new_baselines_harmonise_to_the_same_values(cat: Catalog) -> None:
    new = a_bands()
    old_red = (new["B04"][0] - 1000).astype(np.uint16)
    old_nir = (new["B08"][0] - 1000).astype(np.uint16)
    cat.add_a("old", "2023-05-02T10:00:00Z", 5, red=old_red, nir=old_nir, baseline="03.01")
    cat.add_a("new", "2023-05-03T10:00:00Z", 5, baseline="05.09")
    cat.add_a("es", "2023-05-04T10:00:00Z", 5, layout="es")
    cat.add_a("cdse", "2023-05-05T10:00:00Z", 5, layout="cdse", baseline="05.10")
    res = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-06-01", period="day")
    assert res.labels == [f"2023-05-0{d}T00:00:00Z" for d in (2, 3, 4, 5)]
    assert res.data.dtype == np.float32 and res.data.shape == (4, 8, 9)
    for layer in res.data:
        np.testing.assert_allclose(layer, a_ndvi(res), atol=1e-6)
    # without harmonisation the new baseline would give a different NDVI
    assert not np.allclose(a_ndvi(res), ((3000 - 1100) / (3000 + 1100)), atol=1e-3)


def test_coordinates_are_pixel_centres(cat: Catalog) -> None:
    cat.add_a("a", "2023-05-02T10:00:00Z", 5)
    res = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-06-01")
    assert res.epsg == 32632 and res.bounds == OUT_BOUNDS
    np.testing.assert_array_equal(res.x, 316345.0 + 10 * np.arange(9))
    np.testing.assert_array_equal(res.y, 5012345.0 - 10 * np.arange(8))
    assert res.x.dtype == np.float64 and res.y.dtype == np.float64
    assert res.labels == ["2023-05-01T00:00:00Z"] and res.dates == ["2023-05-02"]


def test_duplicates_keep_the_most_recently_updated_even_if_cloudier(cat: Catalog) -> None:
    red2 = np.full((40, 40), 2000, np.uint16)
    nir2 = np.full((40, 40), 4000, np.uint16)  # harmonised 1000 / 3000 -> NDVI 0.5
    cat.add_a("a-old", "2023-05-02T10:00:00Z", 5, updated="2023-05-02T15:00:00Z")
    cat.add_a(
        "b-new", "2023-05-02T10:00:05Z", 15, red=red2, nir=nir2, updated="2024-07-01T00:00:00Z"
    )
    # no ``updated`` at all: the greater id wins
    cat.add_a("c-tie", "2023-05-03T10:00:00Z", 7)
    cat.add_a("d-tie", "2023-05-03T10:00:00Z", 3, red=red2, nir=nir2)
    # 40 s apart: two acquisitions, not duplicates (both kept, one date)
    res = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-06-01", period="day")
    assert res.dates == ["2023-05-02", "2023-05-03"]
    np.testing.assert_allclose(res.data, 0.5, atol=1e-6)


def test_newer_processing_above_the_cloud_limit_leaves_the_older(cat: Catalog) -> None:
    """The property filter runs in the catalog query, before deduplication."""
    cat.add_a("a-old", "2023-05-02T10:00:00Z", 5, updated="2023-05-02T15:00:00Z")
    cat.add_a("b-new", "2023-05-02T10:00:00Z", 25, updated="2024-07-01T00:00:00Z")
    res = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-06-01", period="day")
    np.testing.assert_allclose(res.data[0], a_ndvi(res), atol=1e-6)


def test_target_crs_product_serves_an_overlap_key_alone_with_its_gaps(cat: Catalog) -> None:
    """Well inside both footprints, only the target-CRS product serves the key: its
    nodata stays nodata, the other tile does not fill it."""
    red, nir = a_bands()["B04"][0].copy(), a_bands()["B08"][0].copy()
    red[:, 18:] = 0
    nir[:, 18:] = 0
    cat.add_a("a", "2023-05-02T10:00:00Z", 15, red=red, nir=nir, footprint_deg=0.2)
    cat.add_b("b", "2023-05-02T11:00:00Z", 1, layout="es", footprint_deg=0.2)
    res = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-06-01", period="day")
    expected = a_ndvi(res)
    expected[:, 4:] = np.nan
    np.testing.assert_allclose(res.data[0], expected, atol=1e-6)


def test_near_footprint_edges_the_product_containing_the_key_serves_it(cat: Catalog) -> None:
    """Both footprints are too small to survive the 1.5-key shrink: the product whose
    footprint contains the whole key (B) serves it alone, even where it is in another
    CRS and A has data (FileLayerProvider resolveTileOverlap, smallest distance > 0)."""
    cat.add_a("a", "2023-05-02T10:00:00Z", 15)
    cat.add_b("b", "2023-05-02T11:00:00Z", 1, layout="es")
    res = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-06-01", period="day")
    assert res.dates == ["2023-05-02"]
    np.testing.assert_allclose(res.data[0], np.full((8, 9), B_NDVI), atol=1e-6)


def test_cloud_cover_filter_is_inclusive(cat: Catalog) -> None:
    for day, cloud in [(2, 19.9), (3, 20.0), (4, 20.1)]:
        cat.add_a(f"i{day}", f"2023-05-0{day}T10:00:00Z", cloud)
    res = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-06-01", period="day")
    assert res.dates == ["2023-05-02", "2023-05-03"]
    res = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-06-01", max_cloud_cover=None)
    assert res.dates == ["2023-05-02", "2023-05-03", "2023-05-04"]


def test_start_inclusive_end_exclusive(cat: Catalog) -> None:
    cat.add_a("first", "2023-05-01T00:00:00Z", 5)
    cat.add_a("last", "2023-05-31T10:30:00Z", 5)
    cat.add_a("midnight", "2023-06-01T00:00:00Z", 5)
    assert reference_ndvi(cat.path, AOI, "2023-05-01", "2023-05-31").dates == ["2023-05-01"]
    res = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-06-01")
    assert res.dates == ["2023-05-01", "2023-05-31"]
    assert reference_ndvi(cat.path, AOI, "2023-05-02", "2023-06-01").dates == ["2023-05-31"]


def test_exclude_dates(cat: Catalog) -> None:
    cat.add_a("a", "2023-05-02T10:00:00Z", 5)
    cat.add_a("b", "2023-05-12T10:00:00Z", 5)
    res = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-06-01", exclude_dates=["2023-05-02"])
    assert res.dates == ["2023-05-12"]


# --- cloud mask ---------------------------------------------------------------------------


def test_gaussian_kernel_by_formula() -> None:
    g = np.exp(-0.5 * (np.arange(11) - 5.0) ** 2 / 1.6**2)
    np.testing.assert_allclose(gaussian_kernel(11, 1.6), np.outer(g, g) / np.outer(g, g).sum())


def test_kernel_is_a_convolution() -> None:
    kernel = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    cloud = np.zeros((3, 4))
    cloud[1, 2] = 1.0
    out = apply_kernel(cloud, kernel)
    expected = np.zeros((3, 4))
    expected[1, 3] = 1.0  # out[i, j] = sum k[a, b] * c[i - a + 1, j - b + 1]: shifted right
    np.testing.assert_array_equal(out, expected)


def test_kernel_copernicus_test_vector_both_paths() -> None:
    # openeo-geotrellis-extensions FFTConvolveSpec.testSimpleConvolve
    values = np.arange(1.0, 10).reshape(3, 3)
    sobel = np.array([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]])
    want = [[-13, -20, -17], [-18, -24, -18], [13, 20, 17]]
    np.testing.assert_array_equal(apply_kernel(values, sobel), want)
    big = np.zeros((11, 11))
    big[4:7, 4:7] = sobel  # 11 > 10: the FFT path
    np.testing.assert_allclose(apply_kernel(values, big), want, atol=1e-9)


def test_kernel_nodata_rules_per_path() -> None:
    values = np.ones((5, 5))
    values[:3, :3] = np.nan
    direct = apply_kernel(values, np.ones((3, 3)))
    assert np.isnan(direct[:2, :2]).all() and np.isfinite(direct).sum() == 21
    assert direct[2, 2] == 5  # the valid cells of the window only
    fft = apply_kernel(values, np.ones((11, 11)))
    assert np.isfinite(fft).all()
    np.testing.assert_allclose(fft, np.nansum(values), atol=1e-9)  # NaN counted as 0


def test_ndvi_float32_and_division_by_zero() -> None:
    red = np.array([500.0, -500.0, 1000.0, np.nan, 20000.0])
    nir = np.array([-500.0, 500.0, 3000.0, 2000.0, 15000.0])
    out = ndvi(red, nir)
    assert out.dtype == np.float32
    assert np.isnan(out[:2]).all()  # B08 + B04 == 0 -> NaN, not +-inf
    assert out[2] == np.float32(0.5) and np.isnan(out[3])
    # added in float32, not int16: 35000 stays 35000
    assert out[4] == np.float32(-5000) / np.float32(35000)


def test_cloud_mask_classes_nodata_and_threshold() -> None:
    scl = np.full((15, 15), 4.0)
    scl[5:10, 5:10] = 9
    scl[0:3, :] = np.nan  # SCL nodata: not cloud
    mask = cloud_mask(scl, classes=(8, 9), kernel=gaussian_kernel(11, 1.6), threshold=0.1)
    assert mask[7, 7] and mask[5, 5] and not mask[0, 0]
    one = np.ones((1, 1))  # strictly greater than the threshold
    assert not cloud_mask(scl, classes=(9,), kernel=one, threshold=1.0).any()
    assert cloud_mask(scl, classes=(9,), kernel=one, threshold=0.999).sum() == 25
    assert not cloud_mask(scl, classes=(3,), kernel=gaussian_kernel(11, 1.6), threshold=0.1).any()
    single = np.full((15, 15), 4.0)
    single[7, 7] = 8  # one pixel: max smoothed fraction is k[5, 5] ~ 0.062 <= 0.1
    assert not cloud_mask(
        single, classes=(8, 9), kernel=gaussian_kernel(11, 1.6), threshold=0.1
    ).any()


def test_cloud_in_the_buffer_masks_the_edge_of_the_output(cat: Catalog) -> None:
    scl = np.full((20, 20), 4, np.uint8)
    scl[:, 4:7] = 9  # x 316280..316340: exactly the 6 buffer columns west of the output
    cat.add_a("a", "2023-05-02T10:00:00Z", 5, scl=scl)
    res = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-06-01")
    # a cloud half-plane 6 px wide: smoothed fraction at distance d is ~ sum of g beyond d,
    # 0.375 (d=1), 0.170 (d=2), 0.056 (d=3) -> the two first output columns are masked
    assert np.isnan(res.data[0][:, :2]).all()
    np.testing.assert_allclose(res.data[0][:, 2:], a_ndvi(res)[:, 2:], atol=1e-6)
    zero_pad = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-06-01", kernel_size=1)
    assert not np.isnan(zero_pad.data).any()  # 1x1 kernel: no buffer reaches the clouds


# --- temporal aggregation -----------------------------------------------------------------


def test_reducers_by_hand() -> None:
    nan = np.nan
    stack = np.array([[[1.0, nan, 5.0]], [[2.0, nan, nan]], [[nan, nan, nan]], [[4.0, nan, nan]]])
    stack = stack.astype(np.float32)
    expected = {
        "mean": [7 / 3, nan, 5.0],
        "median": [2.0, nan, 5.0],
        "min": [1.0, nan, 5.0],
        "max": [4.0, nan, 5.0],
        "sd": [math.sqrt(7 / 3), nan, nan],  # sample sd (n - 1); one value -> NaN
        "count": [3.0, nan, 1.0],  # no valid value: nodata, as Copernicus
    }
    for reducer, values in expected.items():
        out = reduce_stack(stack, reducer)
        assert out.dtype == np.float32 and out.shape == (1, 3)
        np.testing.assert_allclose(out[0], values, atol=1e-6, err_msg=reducer)


def _utc(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


def _starts(start: str, end: str, period: str) -> list[str]:
    return [s.isoformat() for s, _ in period_intervals(_utc(start), _utc(end), period)]


def test_periods_python_driver_test_vectors() -> None:
    # openeo-python-driver tests/test_ProcessGraphDeserializer.py test_period_to_intervals*
    assert [
        (s.isoformat(), e.isoformat())
        for s, e in period_intervals(_utc("2021-06-08"), _utc("2021-06-24"), "week")
    ] == [("2021-06-06", "2021-06-13"), ("2021-06-13", "2021-06-20"), ("2021-06-20", "2021-06-27")]
    for start, end in [("2021-06-01", "2021-08-02"), ("2021-06-08", "2021-08-24")]:
        assert _starts(start, end, "month") == ["2021-06-01", "2021-07-01", "2021-08-01"]
    assert _starts("2021-11-11", "2022-02-01", "month") == [
        "2021-11-01", "2021-12-01", "2022-01-01"
    ]  # fmt: skip
    assert _starts("2018-06-08", "2021-08-24", "year") == [
        "2018-01-01", "2019-01-01", "2020-01-01", "2021-01-01"
    ]  # fmt: skip
    dekads = ["2021-06-01", "2021-06-11", "2021-06-21", "2021-07-01", "2021-07-11"]
    assert _starts("2021-06-08", "2021-07-20", "dekad") == dekads
    assert _starts("2021-06-01", "2021-07-20", "dekad") == dekads
    ends = [
        e.isoformat() for _, e in period_intervals(_utc("2021-06-08"), _utc("2021-07-20"), "dekad")
    ]
    assert ends == ["2021-06-11", "2021-06-21", "2021-07-01", "2021-07-11", "2021-07-21"]


def test_weeks_start_on_sunday_and_dekads_skip_a_late_first_month() -> None:
    # the seed season: the first week is labelled by Sunday 30 April
    assert _starts("2023-05-01", "2023-09-30", "week")[0] == "2023-04-30"
    # an extent starting on day 12 or later has no dekad in its first month
    assert _starts("2023-05-11", "2023-06-15", "dekad")[0] == "2023-05-01"
    assert _starts("2023-05-12", "2023-06-15", "dekad") == ["2023-06-01", "2023-06-11"]
    assert _starts("2023-02-15", "2023-03-02", "dekad") == ["2023-03-01"]
    seasons = _starts("2023-01-15", "2023-09-02", "season")
    assert seasons == ["2022-12-01", "2023-03-01", "2023-06-01", "2023-09-01"]
    assert _starts("2023-04-30", "2023-11-02", "tropical-season") == [
        "2022-11-01", "2023-05-01", "2023-11-01"
    ]  # fmt: skip


def test_dates_outside_every_period_are_dropped() -> None:
    stack = np.array([[[1.0]], [[3.0]], [[5.0]]], dtype=np.float32)
    dates = [dt.date(2023, 5, 14), dt.date(2023, 5, 30), dt.date(2023, 6, 2)]
    extent = (_utc("2023-05-13"), _utc("2023-06-30"))
    labels, data = aggregate(stack, dates, reducer="mean", period="dekad", extent=extent)
    assert labels == ["2023-06-01T00:00:00Z"]
    np.testing.assert_allclose(data[:, 0, 0], [5.0])
    labels, _ = aggregate(stack, dates, reducer="mean", period="week", extent=extent)
    assert labels == ["2023-05-14T00:00:00Z", "2023-05-28T00:00:00Z"]


def test_interval_mode_labels_and_empty_intervals() -> None:
    stack = np.array([[[1.0]], [[3.0]], [[5.0]]], dtype=np.float32)
    dates = [dt.date(2023, 5, 2), dt.date(2023, 5, 20), dt.date(2023, 7, 1)]
    intervals = [
        ("2023-05-01", "2023-05-20", "early"),  # end exclusive: only 2 May
        ("2023-05-01", "2023-07-02", None),  # all three
        ("2023-06-01", "2023-07-01", "empty"),  # no date -> dropped
    ]
    labels, data = aggregate(stack, dates, reducer="mean", intervals=intervals)
    assert labels == ["early", "2023-05-01T00:00:00Z"]
    np.testing.assert_allclose(data[:, 0, 0], [1.0, 3.0])


def test_empty_period_dropped_and_fully_masked_period_kept(cat: Catalog) -> None:
    cat.add_a("may", "2023-05-10T10:00:00Z", 5)
    cat.add_a("july", "2023-07-05T10:00:00Z", 5, scl=np.full((20, 20), 8, np.uint8))
    res = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-09-01")
    assert res.labels == ["2023-05-01T00:00:00Z", "2023-07-01T00:00:00Z"]
    np.testing.assert_allclose(res.data[0], a_ndvi(res), atol=1e-6)
    assert np.isnan(res.data[1]).all()
    counts = reference_ndvi(cat.path, AOI, "2023-05-01", "2023-09-01", reducer="count")
    np.testing.assert_array_equal(counts.data[0], 1.0)
    assert np.isnan(counts.data[1]).all()  # no valid value: no count (nodata)
    interval = reference_ndvi(
        cat.path, AOI, "2023-05-01", "2023-09-01", intervals=[("2023-05-01", "2023-06-01", None)]
    )
    assert interval.labels == ["2023-05-01T00:00:00Z"] and interval.data.shape == (1, 8, 9)


def test_items_through_child_catalog_and_outside_bbox(tmp_path: Path) -> None:
    sub = Catalog(tmp_path / "sub")
    (tmp_path / "sub").mkdir()
    sub.add_a("a", "2023-05-02T10:00:00Z", 5)
    far = a_bands()  # same rasters, but the item claims a bbox elsewhere: filtered out
    sub.add("far", "2023-05-03T10:00:00Z", 5, epsg=32632, tile="32TLR", bands=far)
    item = json.loads((tmp_path / "sub" / "far" / "item.json").read_text())
    item["bbox"] = [7.5, 46.0, 7.6, 46.1]
    (tmp_path / "sub" / "far" / "item.json").write_text(json.dumps(item))
    sub_path = sub.path
    root = tmp_path / "catalog.json"
    link = {"rel": "child", "href": f"./sub/{sub_path.name}"}
    root.write_text(json.dumps({"type": "Catalog", "id": "root", "links": [link]}))
    assert reference_ndvi(root, AOI, "2023-05-01", "2023-06-01").dates == ["2023-05-02"]
