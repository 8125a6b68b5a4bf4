"""Raster-cube processes given a vector cube are refused, as Copernicus refuses them.

Copernicus's implementations read their cube with ``expected_type=DriverDataCube``
(openeo-python-driver openeo_driver/processgraph/process_implementations/cubes.py
L104-472), which neither aggregate_spatial's result (an ``AggregateSpatialResultCSV``,
geopyspark-driver geopysparkdatacube.py L1939-1960) nor load_geojson's
``DriverVectorCube`` is: ``ProcessParameterInvalid`` (400). apply_dimension and
filter_bands take a ``DriverVectorCube`` (cubes.py L112, L380-381) but not
aggregate_spatial's result. These ran here on the vector cube's xarray (a mean over
``t`` of the time series, labels renamed, dates filtered...) and answered values
Copernicus never gives. Graphs run through the engine's own registry
(``registry_for_run``) on a small synthetic cube.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hybrid.errors import ProcessParameterInvalid
from tests.engine.vector_grid import collection, grid_cube, rect, spacetime

FIELDS = collection(rect(1, 1, 5, 4), rect(3, 2, 7, 6))
SERIES = {"from_node": "agg"}
FIELDS_CUBE = {"from_node": "fields"}


def _callback(process_id: str, parameter: str = "data", **arguments: Any) -> dict[str, Any]:
    node = {"process_id": process_id, "result": True,
            "arguments": {parameter: {"from_parameter": parameter}, **arguments}}  # fmt: skip
    return {"process_graph": {"c": node}}


def _cube() -> Any:
    data = spacetime()
    values = np.stack([data.values, data.values * 10], axis=-1)
    dims = ("t", "y", "x", "bands")
    return grid_cube(values, dims, t=data["t"].values, bands=["B04", "B08"])


def _run(process_id: str, arguments: dict[str, Any]) -> Any:
    """load -> aggregate_spatial (mean per field) and load_geojson -> the node under test."""
    from hybrid.backends.local.engine import _strict_nested_references
    from hybrid.backends.local.graph_parsing import parse_graph
    from hybrid.backends.local.registry import registry_for_run
    from hybrid.geometries import crs_members_as_text

    load = {"id": "S", "spatial_extent": None, "temporal_extent": None}
    properties = [{**f, "properties": {"area": 1.5 + i}} for i, f in enumerate(FIELDS["features"])]
    graph = {
        "load": {"process_id": "load_collection", "arguments": load},
        "agg": {"process_id": "aggregate_spatial", "arguments": {
            "data": {"from_node": "load"}, "geometries": FIELDS, "reducer": _callback("mean")}},
        "fields": {"process_id": "load_geojson", "arguments": {
            "data": {**FIELDS, "features": properties}, "properties": ["area"]}},
        "next": {"process_id": process_id, "arguments": arguments, "result": True},
    }  # fmt: skip
    cube = _cube()
    registry = registry_for_run(
        {"load_collection": lambda **_: cube, "save_result": lambda data, **_: data}
    )
    _strict_nested_references()
    return parse_graph(crs_members_as_text(graph)).to_callable(process_registry=registry)()


AFTER_THE_SERIES = {
    "reduce_dimension": {"data": SERIES, "dimension": "t", "reducer": _callback("mean")},
    "drop_dimension": {"data": SERIES, "name": "bands"},
    "rename_labels": {"data": SERIES, "dimension": "bands", "target": ["red", "nir"]},
    "rename_dimension": {"data": SERIES, "source": "t", "target": "time"},
    "filter_temporal": {"data": SERIES, "extent": ["2023-06-05", "2023-06-10"]},
    "filter_labels": {"data": SERIES, "dimension": "t", "condition": {"process_graph": {
        "c": {"process_id": "gt", "result": True,
              "arguments": {"x": {"from_parameter": "value"}, "y": "2023-06-05"}}}}},
    "aggregate_temporal_period": {"data": SERIES, "period": "month", "reducer": _callback("mean")},
    "apply": {"data": SERIES, "process": _callback("absolute", "x")},
    "dimension_labels": {"data": SERIES, "dimension": "t"},
    "add_dimension": {"data": SERIES, "name": "other", "label": "a"},
    "ndvi": {"data": SERIES, "red": "B04", "nir": "B08"},
    "linear_scale_range": {"x": SERIES, "inputMin": 0, "inputMax": 1},
    "convert_data_type": {"data": SERIES, "data_type": "float32"},
    "filter_bbox": {"data": SERIES, "extent": {"west": 9, "east": 10, "south": 45, "north": 46}},
    "mask": {"data": {"from_node": "load"}, "mask": SERIES},
    "merge_cubes": {"cube1": {"from_node": "load"}, "cube2": SERIES},
}  # fmt: skip


@pytest.mark.parametrize("process_id", sorted(AFTER_THE_SERIES))
def test_raster_processes_refuse_a_time_series(process_id: str) -> None:
    arguments = AFTER_THE_SERIES[process_id]
    name = next(k for k, v in arguments.items() if v == SERIES)
    with pytest.raises(ProcessParameterInvalid) as caught:
        _run(process_id, arguments)
    message = str(caught.value)
    assert f"{process_id}: the value passed for parameter '{name}' is invalid" in message
    assert "expected a raster cube but got an aggregate_spatial result" in message
    assert "\n" not in message


@pytest.mark.parametrize("process_id", ["filter_bands", "apply_dimension"])
def test_vector_cube_processes_refuse_aggregate_spatials_result(process_id: str) -> None:
    arguments = {"filter_bands": {"data": SERIES, "bands": ["B04"]},
                 "apply_dimension": {"data": SERIES, "dimension": "t",
                                     "process": _callback("cummax")}}[process_id]  # fmt: skip
    with pytest.raises(ProcessParameterInvalid, match="expected a raster cube or vector cube"):
        _run(process_id, arguments)


def test_load_geojsons_cube_is_refused_by_raster_processes() -> None:
    with pytest.raises(ProcessParameterInvalid, match="expected a raster cube but got a vector"):
        _run("rename_labels", {"data": FIELDS_CUBE, "dimension": "properties", "target": ["a"]})


def test_filter_bands_selects_load_geojsons_properties() -> None:
    """Copernicus's ``DriverVectorCube.filter_bands`` selects ``properties``
    (python-driver datacube.py L320-321); it was refused for want of a band dimension."""
    kept = _run("filter_bands", {"data": FIELDS_CUBE, "bands": ["area"]})
    assert list(kept["properties"].values) == ["area"]
    np.testing.assert_allclose(kept.values.ravel(), [1.5, 2.5])


def test_processes_for_vector_cubes_still_take_the_time_series() -> None:
    """vector_to_raster takes aggregate_spatial's result (python-driver geometry.py
    L205-221 via ``to_driver_vector_cube``), onto a raster target."""
    raster = _run("vector_to_raster", {"data": SERIES, "target": {"from_node": "load"}})
    assert {"x", "y"} <= set(raster.dims)
    with pytest.raises(ProcessParameterInvalid, match="parameter 'target'"):
        _run("vector_to_raster", {"data": SERIES, "target": SERIES})


def test_apply_dimension_on_load_geojsons_cube_takes_only_a_udf() -> None:
    """Copernicus's ``DriverVectorCube.apply_dimension`` runs a single run_udf and raises
    FeatureUnsupported for any other callback (python-driver datacube.py L822-898); a
    cumulative maximum along ``properties`` was computed here."""
    arguments = {"data": FIELDS_CUBE, "dimension": "properties", "process": _callback("cummax")}
    with pytest.raises(ProcessParameterInvalid, match="takes a single run_udf callback only"):
        _run("apply_dimension", arguments)
