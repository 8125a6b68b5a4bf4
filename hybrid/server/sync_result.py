"""A synchronous ``POST /result`` graph without ``save_result`` answers with what it computes.

Copernicus wraps a result that is not a ``SaveResult`` with ``to_save_result``: a raster
cube as GTiff, a vector cube or any other value (number, string, boolean, null, array,
object) as JSON (openeo-python-driver ``openeo_driver/save_result.py`` ``to_save_result``,
and ``views.py`` ``execute`` -> ``_jsonable_result``). Here the kind comes from the result
process's return schema in the engine's process descriptions, and a ``save_result`` node
with that format is added before the engine runs the graph.

A synchronous GTiff of a cube with dates is one GeoTIFF there: outside a batch job the
layer becomes a spatial one first (openeo-geopyspark-driver ``geopysparkdatacube.py``
``write_assets`` L2163, ``to_spatial_layer``), so each tile holds one of the dates,
which one unspecified ("only export bands at a single (random) date", L2009; the tiles
of all dates are written and the last one collected per segment wins,
openeo-geotrellis-extensions ``geotiff/package.scala`` ``getCompressedTiles``
L424-470). Here it is the first date's file (:func:`synchronous_files`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)

#: the id of the node added to a graph without save_result
SAVE_NODE = "_hybrid_sync_save"
_RASTER_SUBTYPES = frozenset({"datacube", "raster-cube"})


def _returns_raster(spec: Mapping[str, Any] | None) -> bool:
    """Whether a process description says the process returns a raster cube."""
    schema = (spec or {}).get("returns", {}).get("schema", {})
    schemas: Iterable[Any] = schema if isinstance(schema, list) else [schema]
    return any(
        isinstance(s, Mapping)
        and s.get("subtype") in _RASTER_SUBTYPES
        # a vector cube (aggregate_spatial: a "datacube" with a geometry dimension)
        and not any(d.get("type") == "geometry" for d in s.get("dimensions") or [])
        for s in schemas
    )


def _default_format(pid: str, raster: bool) -> str:
    """GTiff for a raster cube; GeoJSON for the vector cubes of load_geojson, load_url and
    raster_to_vector (Copernicus's ``VectorCubeResult.DEFAULT_FORMAT``); JSON for anything else
    (aggregate_spatial's results are ``AggregatePolygonResult`` there, written as JSON).
    load_url is asked first: openEO describes its result as any data cube (a raster one
    for load_stac's formats, which it refuses here as Copernicus does)."""
    if pid in ("load_geojson", "load_url", "raster_to_vector"):
        return "GeoJSON"
    return "GTiff" if raster else "JSON"


#: processes that write a result (save_ml_model: Copernicus's ``MlModelResult``)
_SAVING = ("save_result", "save_ml_model")


def with_save_result(
    graph: Mapping[str, Any], specs: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """``graph`` itself when it saves anything (a result or a model) or its result is discarded
    (``discard_result``, Copernicus's ``NullResult``); else with a save_result of its
    result node."""
    if any(node.get("process_id") in _SAVING for node in graph.values()):
        return dict(graph)
    results = [node_id for node_id, node in graph.items() if node.get("result")]
    result_id = results[0] if results else list(graph)[-1]
    if graph[result_id].get("process_id") == "discard_result":
        return dict(graph)
    by_id = {spec["id"]: spec for spec in specs}
    pid = graph[result_id]["process_id"]
    raster = _returns_raster(by_id.get(pid))
    out = {node_id: dict(node) for node_id, node in graph.items()}
    out[result_id].pop("result", None)
    out[SAVE_NODE] = {
        "process_id": "save_result",
        "arguments": {"data": {"from_node": result_id}, "format": _default_format(pid, raster)},
        "result": True,
    }
    return out


def synchronous_files(graph: Mapping[str, Any], files: list[Path]) -> list[Path]:
    """The files a synchronous request answers with: a GTiff written per date (the
    engine's batch layout) is the first date's file (module docstring), with a warning
    in the server's log; any other list as it is."""
    from hybrid.io import gtiff
    from hybrid.io.format import option_flag
    from hybrid.io.registry import format_of_file

    if len(files) < 2 or any(format_of_file(f) is not gtiff.FORMAT for f in files):
        return files
    saves = [n for n in graph.values() if n.get("process_id") == "save_result"]
    options = [(n.get("arguments") or {}).get("options") or {} for n in saves]
    if len(saves) != 1 or option_flag(options[0].get("separate_asset_per_band", False)):
        return files
    first = min(files, key=lambda f: f.name)
    _log.warning(
        "synchronous GTiff of %d dates: answering the first (%s; Copernicus answers one "
        "date per tile, which one undefined): reduce t first for a defined image",
        len(files),
        first.name,
    )
    return [first]
