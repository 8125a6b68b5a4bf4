"""A load's GeoJSON ``spatial_extent`` must be polygons, as on Copernicus:
openeo-python-driver 9e5b49b2 ``openeo_driver/processgraph/process_implementations/io.py``
L63-99 (``_extract_bbox_extent`` with ``handle_geojson``, ``_contains_only_polygons``):
a Polygon, MultiPolygon, or a Feature / FeatureCollection of only those is read as its
bbox labelled EPSG:4326 (L80); a GeometryCollection, or a Feature or FeatureCollection
holding anything else, is 400 ProcessParameterInvalid (L64-73); a bare Point or line
is a ValueError there (L88, a 500), here the same 400. aggregate_spatial's geometries
are not affected (Copernicus takes points there)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.server_helpers import SEED_BBOX, TEMPORAL_EXTENT, local_connection, ndvi_graph

WEST, SOUTH = SEED_BBOX["west"], SEED_BBOX["south"]
EAST, NORTH = SEED_BBOX["east"], SEED_BBOX["north"]
POINT = {"type": "Point", "coordinates": [(WEST + EAST) / 2, (SOUTH + NORTH) / 2]}
LINE = {"type": "LineString", "coordinates": [[WEST, SOUTH], [EAST, NORTH]]}
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[WEST, SOUTH], [EAST, SOUTH], [EAST, NORTH], [WEST, NORTH], [WEST, SOUTH]]],
}
REFUSED = {
    "Point": POINT,
    "LineString": LINE,
    "Feature": {"type": "Feature", "geometry": POINT, "properties": {}},
    "FeatureCollection": {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": SQUARE, "properties": {}},
            {"type": "Feature", "geometry": LINE, "properties": {}},
        ],
    },
    "GeometryCollection": {"type": "GeometryCollection", "geometries": [SQUARE]},
}


def _assert_refused(message: str) -> None:
    assert "\n" not in message and "Traceback" not in message, message
    assert "spatial_extent" in message and "bounding box" in message, message
    assert "Polygon" in message, message


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_a_load_extent_that_is_not_polygons_is_refused_through_the_client(
    kind: str, sample_catalog: Path, tmp_path: Path
) -> None:
    """Through ``hybrid serve`` and the openeo client (the graph as given: the client's
    load_collection refuses a bare Point itself): 400 ProcessParameterInvalid in one line
    saying to give a bbox or polygons; it was 400 BadRequest without the way out, and
    loaded when an aggregate_spatial after it reached beyond it."""
    from openeo.rest import OpenEoApiError

    graph = ndvi_graph(SEED_BBOX, TEMPORAL_EXTENT)
    graph["load"]["arguments"]["spatial_extent"] = REFUSED[kind]
    with (
        local_connection(tmp_path / "data", sample_catalog) as connection,
        pytest.raises(OpenEoApiError) as info,
    ):
        connection.download(graph, tmp_path / "out.nc")
    error = info.value
    assert (error.http_status_code, error.code) == (400, "ProcessParameterInvalid")
    _assert_refused(error.message)


def _write_graph(path: Path, extent: Any, *, load_stac: str | None = None) -> Path:
    graph = ndvi_graph(SEED_BBOX, TEMPORAL_EXTENT)
    graph["load"]["arguments"]["spatial_extent"] = extent
    if load_stac is not None:
        args = graph["load"]["arguments"]
        graph["load"] = {
            "process_id": "load_stac",
            "arguments": {"url": load_stac, "spatial_extent": extent,
                          "temporal_extent": args["temporal_extent"], "bands": args["bands"]},
        }  # fmt: skip
    path.write_text(json.dumps(graph))
    return path


@pytest.mark.parametrize("process", ["load_collection", "load_stac"])
def test_hybrid_run_refuses_a_point_extent_in_one_line(
    process: str, sample_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``hybrid run --graph``: exit 2 and one line naming the process; it ran."""
    from hybrid.cli import main

    url = str(sample_catalog / "catalog.json") if process == "load_stac" else None
    graph = _write_graph(tmp_path / "g.json", POINT, load_stac=url)
    code = main(["run", "--stac", str(sample_catalog), "--graph", str(graph),
                 "--out", str(tmp_path / "out"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and process in err, err
    _assert_refused(err)


def test_a_polygon_feature_collection_extent_still_loads(
    sample_catalog: Path, tmp_path: Path
) -> None:
    """A FeatureCollection of polygons is read as its bbox, as Copernicus reads it."""
    from hybrid.cli import main

    feature = {"type": "Feature", "geometry": SQUARE, "properties": {}}
    collection = {"type": "FeatureCollection", "features": [feature]}
    graph = _write_graph(tmp_path / "g.json", collection)
    out = tmp_path / "out"
    assert main(["run", "--stac", str(sample_catalog), "--graph", str(graph),
                 "--out", str(out), "--quiet"]) == 0  # fmt: skip
    assert any(out.iterdir())


def _aggregate_graph(extent: Any, geometries: Any) -> dict[str, Any]:
    graph = ndvi_graph(SEED_BBOX, TEMPORAL_EXTENT)
    graph["load"]["arguments"]["spatial_extent"] = extent
    graph["agg"] = {
        "process_id": "aggregate_spatial",
        "arguments": {"data": {"from_node": "ndvi"}, "geometries": geometries,
                      "reducer": {"process_graph": {"mean": {
                          "process_id": "mean", "arguments": {"data": {"from_parameter": "data"}},
                          "result": True}}}},
    }  # fmt: skip
    graph["save"]["arguments"] = {"data": {"from_node": "agg"}, "format": "JSON"}
    return graph


@pytest.mark.parametrize(
    ("extent", "geometries", "code"),
    [(POINT, SQUARE, 2), (SEED_BBOX, POINT, 0)],
    ids=["point-extent-polygon-fields", "bbox-extent-point-fields"],
)
def test_aggregate_spatial_geometries_do_not_relax_or_tighten_the_rule(
    extent: Any, geometries: Any, code: int, sample_catalog: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A Point load extent is refused even when aggregate_spatial's polygons reach beyond
    it (the load read their box); a Point among aggregate_spatial's geometries still runs
    (Copernicus takes points there)."""
    from hybrid.cli import main

    path = tmp_path / "g.json"
    path.write_text(json.dumps(_aggregate_graph(extent, geometries)))
    got = main(["run", "--stac", str(sample_catalog), "--graph", str(path),
                "--out", str(tmp_path / "out"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert got == code, err
    if code:
        _assert_refused(err)


def test_validation_reports_a_line_extent(sample_catalog: Path, tmp_path: Path) -> None:
    """``/validation`` through the client lists the same ProcessParameterInvalid."""
    graph = ndvi_graph(SEED_BBOX, TEMPORAL_EXTENT)
    graph["load"]["arguments"]["spatial_extent"] = LINE
    with local_connection(tmp_path / "data", sample_catalog) as connection:
        errors = connection.validate_process_graph(graph)
    assert [e["code"] for e in errors] == ["ProcessParameterInvalid"], errors
    _assert_refused(errors[0]["message"])
