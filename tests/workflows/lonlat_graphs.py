"""Geometries and process-graph pieces for the driver's tests replayed on
:mod:`tests.workflows.lonlat_collection`: the driver's ``load_collection`` node as
``load_stac``, ``save_result``, ``run_udf`` callbacks and user-defined processes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: the extent most of the driver's tests load
UNIT = {"west": 0.0, "south": 0.0, "east": 1.0, "north": 1.0}


def point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [x, y]}


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def features(*geometries: dict[str, Any]) -> dict[str, Any]:
    """openeo.util ``as_geojson_feature_collection``: Features with empty properties."""
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": g} for g in geometries],
    }


#: the driver's tests/data/geometries/FeatureCollection.geojson: two rectangles, their ids
#: on the Features (not in the properties)
FEATURES_FILE = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "id": name, "properties": {}, "geometry": box(*bounds)}
        for name, bounds in (
            ("apples", (0.17303466796874997, 0.15930155257140266,
                        0.65643310546875, 0.4394488164139768)),
            ("oranges", (1.5875244140625, 1.5790847267832018,
                         1.93084716796875, 1.9332268264771233)),
        )
    ],
}  # fmt: skip


def load(
    url: str,
    temporal: Sequence[str | None],
    bands: Sequence[str],
    spatial: Mapping[str, float] | None = UNIT,
) -> dict[str, Any]:
    """The driver's ``load_collection`` node as ``load_stac`` of ``url``."""
    arguments: dict[str, Any] = {
        "url": url,
        "temporal_extent": list(temporal),
        "bands": list(bands),
    }
    if spatial is not None:
        arguments["spatial_extent"] = dict(spatial)
    return {"process_id": "load_stac", "arguments": arguments}


def saved(nodes: Mapping[str, Any], last: str, out_format: str = "json") -> dict[str, Any]:
    """``nodes`` and a ``save_result`` of node ``last`` in ``out_format``."""
    save = {
        "process_id": "save_result",
        "arguments": {"data": {"from_node": last}, "format": out_format},
        "result": True,
    }
    return {**nodes, "save": save}


def run_udf(udf: str, context: Any = None) -> dict[str, Any]:
    """A callback of one ``run_udf`` node (``context`` left out when None)."""
    arguments: dict[str, Any] = {
        "data": {"from_parameter": "data"},
        "udf": udf,
        "runtime": "Python",
    }
    if context is not None:
        arguments["context"] = context
    node = {"process_id": "run_udf", "arguments": arguments, "result": True}
    return {"process_graph": {"udf": node}}


def number_parameter(name: str, default: float) -> dict[str, Any]:
    return {
        "name": name,
        "description": name,
        "default": default,
        "optional": True,
        "schema": {"type": "number"},
    }


def store_udp(
    connection: Any, udp_id: str, node: dict[str, Any], parameters: list[dict[str, Any]]
) -> None:
    connection.save_user_defined_process(
        udp_id, {"node": {**node, "result": True}}, parameters=parameters
    )


def call_udp(udp_id: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "process_id": udp_id,
        "namespace": "user",
        "arguments": {"data": {"from_node": "lc"}, **arguments},
    }
