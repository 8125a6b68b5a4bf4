"""A time series per field on a date whose product covers one field but not the other,
through the openeo client against the server: Copernicus has no tile of the cube in the
layout keys (256 px) of the uncovered field that date (an all-no-data tile is dropped at
load: openeo-geotrellis-extensions 2a25a26e FileLayerProvider.scala L664, L708), so
Spark has no pixel row for it (AggregatePolygonProcess.scala ``aggregateSpatialGeneric``
L261-315, points ``aggregateSpatialForGeometry`` L111-154: only joined tiles make rows)
and no aggregate row (``aggregateByDateAndPolygon`` L364-373: ``requiredRows`` are the
pixel rows' (date, feature) pairs): its CSV has no row for that field on that date, and
the JSON, which reindexes each date's rows by every feature (openeo-python-driver
9e5b49b2 save_result.py ``AggregatePolygonResultCSV.get_data`` L712-723), has null for
each statistic, ``count`` included (Spark's ``count`` gives 0 only over rows, for a
field whose pixels are no data in a tile that exists).

The scene is 600 px wide; on the second date its footprint and data end 2 km from the
west edge, the east field lies 3 km further: more than a key from any valid pixel,
whatever the keys' origin. A third field lies in a 400 m hole of no data inside the
footprint that date: its key holds data whatever the origin, it keeps its row."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.server_helpers import local_connection
from tests.stac_fixtures import TINY_X0, TINY_Y0, TinyScene, write_tiny_band, write_tiny_catalog

pytestmark = pytest.mark.slow

#: the scene's size, 10 m pixels: 6 km x 600 m
WIDTH, HEIGHT = 600, 60
#: on the second date the product's footprint and data: the west 200 px (2 km)
COVERED = 200
DATES = ["2023-06-01", "2023-06-10"]


def _lonlat(x: float, y: float) -> list[float]:
    """Metres east of / south of the scene's north-west corner as lon/lat."""
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)
    return list(tr.transform(TINY_X0 + x, TINY_Y0 - y))


def _box(x0: float, x1: float, y0: float, y1: float) -> dict[str, Any]:
    ring = [_lonlat(x0, y0), _lonlat(x1, y0), _lonlat(x1, y1), _lonlat(x0, y1), _lonlat(x0, y0)]
    return {"type": "Polygon", "coordinates": [ring]}


#: on the second date a hole of no data inside the footprint: rows, columns (10 m px)
HOLE = (slice(16, 44), slice(100, 140))
#: field 0 in the west (covered on both dates), field 1 in the east (first date only),
#: field 2 in the hole (its pixels no data the second date, in a key holding data)
FIELDS = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {}, "geometry": _box(x, x + 200, 200, 400)}
        for x in (100, 5000, 1100)
    ],
}
#: the pixel centres inside each field (20 x 20)
PIXELS = 400


def _write_catalog(root: Path) -> Path:
    """Two 600 x 60 px scenes; the second one's footprint and data the west 2 km."""
    import numpy as np

    scenes = [
        TinyScene(f"S2A_T32TLR_{d.replace('-', '')}_L2A", f"{d}T10:30:00Z", 5.0) for d in DATES
    ]
    path = write_tiny_catalog(root, scenes)
    for scene, partial in zip(scenes, (False, True), strict=True):
        folder = root / scene.id
        item_path = folder / f"{scene.id}.json"
        item = json.loads(item_path.read_text())
        for key, value, res in (("red", 1500, 10), ("nir", 4000, 10), ("scl", 4, 20)):
            dtype = np.uint8 if res == 20 else np.uint16
            band = np.full((HEIGHT * 10 // res, WIDTH * 10 // res), value, dtype=dtype)
            if partial:
                band[:, COVERED * 10 // res :] = 0
                rows, cols = (slice(s.start * 10 // res, s.stop * 10 // res) for s in HOLE)
                band[rows, cols] = 0
            write_tiny_band(folder / f"{key}.tif", band, res)
            item["assets"][key]["proj:shape"] = list(band.shape)
        east = (COVERED if partial else WIDTH) * 10.0
        item["geometry"] = _box(0, east, 0, HEIGHT * 10.0)
        lons, lats = zip(*item["geometry"]["coordinates"][0], strict=True)
        item["bbox"] = [min(lons), min(lats), max(lons), max(lats)]
        item_path.write_text(json.dumps(item))
    collection = json.loads(path.read_text())
    lons, lats = zip(*_box(0, WIDTH * 10.0, 0, HEIGHT * 10.0)["coordinates"][0], strict=True)
    collection["extent"]["spatial"]["bbox"] = [[min(lons), min(lats), max(lons), max(lats)]]
    path.write_text(json.dumps(collection))
    return path


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("missing_tiles")
    catalog = _write_catalog(root / "catalog")
    with local_connection(root / "data", catalog) as connected:
        yield connected


def _series(connection: Any, reducer: str) -> Any:
    cube = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=[DATES[0], "2023-06-20"], bands=["B04", "B08"]
    )
    return cube.aggregate_spatial(FIELDS, reducer=reducer)


def test_a_field_without_a_tile_on_a_date_has_a_null_count_in_the_json(connection: Any) -> None:
    series = _series(connection, "count").execute()
    assert sorted(series) == ["2023-06-01T00:00:00Z", "2023-06-10T00:00:00Z"]
    assert series["2023-06-01T00:00:00Z"] == [[PIXELS, PIXELS]] * 3
    # the east field has no tile that date: null; the one in the hole has one: 0
    assert series["2023-06-10T00:00:00Z"] == [[PIXELS, PIXELS], [None, None], [0, 0]]


def test_a_point_without_a_tile_on_a_date_has_null_statistics(connection: Any) -> None:
    """Points take Copernicus's other path (``aggregateSpatialForGeometry``: its rows
    too come only from the tiles joined, L111-154)."""
    points = {
        "type": "GeometryCollection",
        "geometries": [{"type": "Point", "coordinates": _lonlat(x, 305)} for x in (205, 5105)],
    }
    cube = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=[DATES[0], "2023-06-20"], bands=["B04", "B08"]
    )
    series = cube.aggregate_spatial(points, reducer="count").execute()
    assert series == {
        "2023-06-01T00:00:00Z": [[1, 1], [1, 1]],
        "2023-06-10T00:00:00Z": [[1, 1], [None, None]],
    }


def test_a_field_without_a_tile_on_a_date_has_no_csv_row(connection: Any, tmp_path: Path) -> None:
    target = tmp_path / "timeseries.csv"
    _series(connection, "mean").download(target, format="CSV")
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    found = {(r["date"][:10], r["feature_index"]): r["B04"] for r in rows}
    assert sorted(found) == [
        ("2023-06-01", "0"), ("2023-06-01", "1"), ("2023-06-01", "2"),
        ("2023-06-10", "0"), ("2023-06-10", "2"),
    ]  # fmt: skip
    # the field in the hole: a row with an empty mean (a tile without valid pixels)
    assert found.pop(("2023-06-10", "2")) == ""
    assert all(value != "" for value in found.values()), found


def test_filter_bbox_before_aggregate_spatial_keeps_the_pixels_it_overlaps(
    connection: Any,
) -> None:
    """Pins the crop here: the pixels the bbox overlaps (the west half of field 0: 10 of
    its 20 columns). Copernicus keeps the whole layout keys the bbox touches
    (openeo-geotrellis-extensions OpenEOProcesses.scala ``crop_metadata_generic``
    L1162-1179, geopysparkdatacube.py ``filter_bbox`` L258-289), so it counts the field's
    pixels in those keys too (all 400 when one key holds the field): which pixels depends
    on its key layout (README, aggregate_spatial)."""
    west, south = _lonlat(0, HEIGHT * 10.0)
    east, north = _lonlat(195, 0)
    cube = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=[DATES[0], "2023-06-02"], bands=["B04"]
    )
    cropped = cube.filter_bbox(west=west, south=south, east=east, north=north)
    series = cropped.aggregate_spatial(FIELDS, reducer="count").execute()
    assert series == {"2023-06-01T00:00:00Z": [[PIXELS // 2], [None], [None]]}
