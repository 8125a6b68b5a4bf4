"""A load followed only by aggregate_spatial (or filter_spatial) searches its items in the
geometries' extent, not in its spatial_extent: Copernicus hands the geometries to the load
(openeo-python-driver 9e5b49b2 processgraph/load_params.py L228-230; openeo-geopyspark-driver
9baf2e10 layercatalog.py L247-255) and FileLayerProvider.readKeysToRasterSources builds
the search box from the polygons only (openeo-geotrellis-extensions 2a25a26e
FileLayerProvider.scala L1018-1027; its ``boundingBox`` argument is not read there; on the
load_stac path the items found are all kept, FixedFeaturesOpenSearchClient.getProducts, but
only the keys the polygons touch are read), so a date whose items touch the extent but not
the fields has no entry in the time series."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hybrid.backends.local.extents import infer_loads
from hybrid.grid import BBox
from tests.stac_fixtures import TINY_X0, TINY_Y0, TinyScene, write_tiny_catalog


def _lonlat(x: float, y: float) -> tuple[float, float]:
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(TINY_X0 + x, TINY_Y0 - y)
    return lon, lat


def _box(x0: float, x1: float, y0: float, y1: float) -> dict[str, Any]:
    """A lon/lat polygon of metres east of / south of the tiny scenes' corner."""
    ring = [_lonlat(x0, y0), _lonlat(x1, y0), _lonlat(x1, y1), _lonlat(x0, y1)]
    return {"type": "Polygon", "coordinates": [[*map(list, ring), list(ring[0])]]}


def _bounds(polygon: dict[str, Any]) -> dict[str, float]:
    lons, lats = zip(*polygon["coordinates"][0], strict=True)
    return {"west": min(lons), "south": min(lats), "east": max(lons), "north": max(lats)}


#: the extent: the whole tiny tile (400 m); the field: 100 m in its east half
EXTENT = _bounds(_box(5, 395, 5, 395))
FIELDS = {
    "type": "FeatureCollection",
    "features": [{"type": "Feature", "properties": {}, "geometry": _box(250, 350, 150, 250)}],
}


def _graph(save_cube_too: bool = False) -> dict[str, Any]:
    mean = {"process_id": "mean", "arguments": {"data": {"from_parameter": "data"}}}
    graph: dict[str, Any] = {
        "load": {
            "process_id": "load_collection",
            "arguments": {
                "id": "SENTINEL2_L2A",
                "spatial_extent": EXTENT,
                "temporal_extent": ["2023-06-01", "2023-06-15"],
                "bands": ["B04"],
            },
        },
        "agg": {
            "process_id": "aggregate_spatial",
            "arguments": {
                "data": {"from_node": "load"},
                "geometries": FIELDS,
                "reducer": {"process_graph": {"m": {**mean, "result": True}}},
            },
        },
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "agg"}, "format": "JSON"},
            "result": True,
        },
    }
    if save_cube_too:
        graph["save"].pop("result")
        graph["raster"] = {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "load"}, "format": "GTiff"},
            "result": True,
        }
    return graph


def test_the_geometries_bound_the_search_when_only_they_use_the_load() -> None:
    load = infer_loads(_graph())["load"]
    assert load.search == load.area
    assert isinstance(load.search, BBox)


def test_a_load_also_used_beyond_the_geometries_searches_its_extent() -> None:
    assert infer_loads(_graph(save_cube_too=True))["load"].search is None


def _strip_scene(root: Path, scene_id: str) -> None:
    """Make ``scene_id`` a product whose footprint (and data) is the tile's west 100 m:
    it touches the extent, not the field's bbox."""
    import rasterio

    from hybrid.sample.cog import write_cog

    for name in ("red", "nir", "scl"):
        file = root / scene_id / f"{name}.tif"
        with rasterio.open(file) as tif:
            data, transform = tif.read(1), tif.transform
        data[:, data.shape[1] // 4 :] = 0
        write_cog(file, data, transform=transform, crs="EPSG:32632", nodata=0, blocksize=256,
                  resampling="nearest")  # fmt: skip
    path = root / scene_id / f"{scene_id}.json"
    item = json.loads(path.read_text())
    item["geometry"] = _box(0, 100, 0, 400)
    bounds = _bounds(item["geometry"])
    item["bbox"] = [bounds["west"], bounds["south"], bounds["east"], bounds["north"]]
    path.write_text(json.dumps(item))


@pytest.mark.slow
def test_a_date_whose_items_miss_the_fields_has_no_entry(tmp_path: Path) -> None:
    from hybrid.backends.local import LocalBackend, LocalSettings

    scenes = [
        TinyScene("S2A_T32TLR_20230601_L2A", "2023-06-01T10:30:00Z", 5.0),
        TinyScene("S2A_T32TLR_20230605_L2A", "2023-06-05T10:30:00Z", 5.0),
    ]
    catalog = write_tiny_catalog(tmp_path / "catalog", scenes)
    _strip_scene(tmp_path / "catalog", scenes[1].id)
    backend = LocalBackend(LocalSettings(stac=str(catalog)))
    (path,) = backend.execute(_graph(), out_dir=tmp_path / "out").files
    series = json.loads(path.read_text())
    assert list(series) == ["2023-06-01T00:00:00Z"]
    assert series["2023-06-01T00:00:00Z"][0][0] is not None
