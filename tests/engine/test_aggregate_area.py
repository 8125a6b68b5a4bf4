"""A load followed by aggregate_spatial (or filter_spatial) reads the geometries' whole
area, also beyond its spatial_extent, as Copernicus hands the geometries to the load and
reads the polygons (openeo-python-driver 9e5b49b2 load_params.py L228-230;
openeo-geopyspark-driver 9baf2e10 layercatalog.py L245-255, load_stac.py L723-733)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hybrid.backends.local.extents import infer_loads
from hybrid.backends.local.load_arguments import with_extents
from hybrid.grid import BBox

#: the sample's B04 over two weeks of June
SMALL = {"west": 6.655, "south": 45.235, "east": 6.660, "north": 45.245}
LARGE = {"west": 6.655, "south": 45.235, "east": 6.670, "north": 45.245}


def _square(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


#: one field inside SMALL, one half outside it, one wholly outside (all inside LARGE)
FIELDS = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {}, "geometry": _square(*box)}
        for box in [
            (6.6555, 45.236, 6.6595, 45.240),
            (6.656, 45.236, 6.664, 45.241),
            (6.662, 45.242, 6.666, 45.244),
        ]
    ],
}


def _graph(extent: dict[str, float], process: str = "aggregate_spatial") -> dict[str, Any]:
    load_args = {
        "id": "SENTINEL2_L2A",
        "spatial_extent": extent,
        "temporal_extent": ["2023-06-01", "2023-06-15"],
        "bands": ["B04"],
    }
    arguments: dict[str, Any] = {"data": {"from_node": "load"}, "geometries": FIELDS}
    if process == "aggregate_spatial":
        mean = {"process_id": "mean", "arguments": {"data": {"from_parameter": "data"}}}
        arguments["reducer"] = {"process_graph": {"m": {**mean, "result": True}}}
    return {
        "load": {"process_id": "load_collection", "arguments": load_args},
        "agg": {"process_id": process, "arguments": arguments},
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "agg"}, "format": "JSON"},
            "result": True,
        },
    }


@pytest.mark.parametrize("process", ["aggregate_spatial", "filter_spatial"])
def test_the_extent_is_widened_to_take_the_geometries_in(process: str) -> None:
    graph = _graph(SMALL, process)
    load = infer_loads(graph)["load"]
    assert load.area == BBox(6.6555, 45.236, 6.666, 45.244)
    widened = with_extents(graph, {"load": load})["load"]["arguments"]["spatial_extent"]
    assert widened == {
        "west": 6.655,
        "south": 45.235,
        "east": 6.666,
        "north": 45.245,
        "crs": "EPSG:4326",
    }


def test_an_extent_holding_the_geometries_is_kept_as_given() -> None:
    graph = _graph(LARGE)
    assert with_extents(graph, infer_loads(graph))["load"]["arguments"]["spatial_extent"] == LARGE


def test_other_processes_do_not_widen_the_load() -> None:
    graph = _graph(SMALL)
    graph["agg"] = {
        "process_id": "mask_polygon",
        "arguments": {"data": {"from_node": "load"}, "mask": FIELDS},
    }
    load = infer_loads(graph)["load"]
    assert load.area is None
    assert with_extents(graph, {"load": load})["load"]["arguments"]["spatial_extent"] == SMALL


@pytest.mark.slow
def test_a_field_beyond_the_extent_gets_the_statistic_of_all_its_pixels(
    sample_catalog: Path, tmp_path: Path
) -> None:
    from hybrid.backends.local import LocalBackend, LocalSettings

    backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))

    def series(extent: dict[str, float]) -> Any:
        out = tmp_path / str(extent["east"])
        (path,) = backend.execute(_graph(extent), out_dir=out).files
        return json.loads(path.read_text())

    small, large = series(SMALL), series(LARGE)
    assert small == large
    assert all(value is not None for fields in small.values() for (value,) in fields[:2])
