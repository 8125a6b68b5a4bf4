"""The integer cell type a GeoTIFF result is written in, as Copernicus writes it.

Copernicus's cube has a cell type; a GeoTIFF is written in it (geotrellis writes the
tiles' cell type and its nodata value). The local engine holds every cube as floats
with NaN for nodata, and writes float32 GeoTIFFs. One common graph differs on
Copernicus: an ``apply`` whose callback is a lone ``linear_scale_range`` to an integer
output range (the openeo client's ``DataCube.linear_scale_range``, the usual last step
of an RGB or 8-bit product) converts the tiles to uint8 (nodata 255), uint16 (nodata
65535) or int16 (nodata -32768) [openeo-geotrellis-extensions
OpenEOProcessScriptBuilder.scala ``linearScaleRangeFunction`` L1271-1322], so the file
is a Byte / UInt16 / Int16 GeoTIFF with that nodata.

:func:`with_cell_types` finds, for each top-level ``save_result``, such an ``apply``
behind it, through the processes that keep a cube's values and type (filters, renames,
``mask`` and ``mask_polygon`` without replacement, nearest-neighbour resampling), and
writes its type into the save_result's ``options`` under
:data:`hybrid.io.gtiff.CELL_TYPE`; the run moves it onto the cube's attributes, where
the GeoTIFF writer reads it.
Any other process on the way (band maths, reducers, merges, another callback) makes the
result float32, as here.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from hybrid.io.gtiff import CELL_TYPE

#: processes whose result has their ``data``'s cell type
_KEEPING = frozenset(
    {
        "filter_bbox", "filter_spatial", "filter_temporal", "filter_bands", "filter_labels",
        "rename_labels", "rename_dimension", "mask", "mask_polygon", "resample_spatial",
        "resample_cube_spatial", "drop_dimension",
    }
)  # fmt: skip


def with_cell_types(graph: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the flat ``graph`` whose save_result nodes carry the integer cell type
    of their data in ``options`` (those with a float result are left as they are)."""
    out = copy.deepcopy(dict(graph))
    for node in out.values():
        if not isinstance(node, dict) or node.get("process_id") != "save_result":
            continue
        arguments = node.get("arguments") or {}
        found = result_cell_type(out, arguments.get("data"))
        if found is not None:
            options = arguments.get("options")
            arguments["options"] = {**(options if isinstance(options, dict) else {})}
            arguments["options"][CELL_TYPE] = list(found)
    return out


def result_cell_type(graph: Mapping[str, Any], data: Any) -> tuple[str, int] | None:
    """The integer cell type (dtype name, nodata) of the cube ``data`` refers to, or None
    for float32."""
    seen: set[str] = set()
    while isinstance(data, Mapping) and isinstance(data.get("from_node"), str):
        node_id = data["from_node"]
        node = graph.get(node_id)
        if node_id in seen or not isinstance(node, Mapping):
            return None
        seen.add(node_id)
        process = node.get("process_id")
        arguments = node.get("arguments") or {}
        if process == "apply":
            return _callback_cell_type(arguments.get("process"))
        if process not in _KEEPING or not _keeps_values(process, arguments):
            return None
        data = arguments.get("data")
    return None


def _keeps_values(process: str, arguments: Mapping[str, Any]) -> bool:
    if process in ("mask", "mask_polygon"):
        return arguments.get("replacement") is None
    if process in ("resample_spatial", "resample_cube_spatial"):
        return arguments.get("method", "near") == "near"
    return True


def _callback_cell_type(process: Any) -> tuple[str, int] | None:
    """The cell type of an apply callback that is one linear_scale_range of ``x``."""
    from hybrid.backends.local.processes.elementwise import integer_cell_type

    nodes = process.get("process_graph") if isinstance(process, Mapping) else None
    if not isinstance(nodes, Mapping) or len(nodes) != 1:
        return None
    (node,) = nodes.values()
    if not isinstance(node, Mapping) or node.get("process_id") != "linear_scale_range":
        return None
    arguments = node.get("arguments") or {}
    if arguments.get("x") != {"from_parameter": "x"}:
        return None
    return integer_cell_type(arguments.get("outputMin", 0.0), arguments.get("outputMax", 1.0))
