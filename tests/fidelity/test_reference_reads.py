"""The independent reference implementation on tiny hand-made GeoTIFF catalogs: the grid,
window reads, band offsets, which scene serves a pixel, the catalog filters.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.fidelity.tiny_catalog import AOI, Catalog, _tif, a_bands, a_ndvi
from tests.reference import reference_ndvi
from tests.reference.catalog import band_offset
from tests.reference.grid import make_grid, snap_outward, target_epsg
from tests.reference.load import warp_band

OUT_BOUNDS = (316340.0, 5012270.0, 316430.0, 5012350.0)  # 9 x 8 pixels

B_NDVI = np.float32((1400 - 400) / (1400 + 400))  # B harmonised: red 400, nir 1400


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
