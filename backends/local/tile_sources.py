"""Which node's cube holds the layout tiles aggregate_spatial's data has on Copernicus.

Copernicus's cube is a set of tiles, one per layout key (256 px) and date; a load drops
every tile whose bands are all no data (openeo-geotrellis-extensions 2a25a26e
FileLayerProvider.scala L664, L708), a data mask applied in the load drops the keys it
masks all over (``applySpaceTimeMask`` L406-428, DatacubeSupport.scala ``prepareMask``
L288-293) and mask_scl_dilation the keys it masks all over (CloudFilterStrategy.scala
L60-159). Processes that compute pixel by pixel or per band keep the tiles they get,
all-no-data ones included: ``mask`` joins the mask to the data's tiles with a left outer
join (DatacubeSupport.scala ``rasterMaskGeneric`` L191-243), band maths maps each tile.

aggregate_spatial makes rows only from the tiles it gets (AggregatePolygonProcess.scala
L111-154, L261-315), so a field on a date where the key holding it has no tile has no
row, while a field whose pixels are no data in a tile that exists has one (its
``count`` 0). :func:`mark_tile_sources` finds, for each aggregate_spatial, the node
whose empty keys are the missing tiles: the load (or a mask applied in it, or
mask_scl_dilation) its data comes from through processes of :data:`_KEEPING` only, and
names it as the argument :data:`TILE_SOURCE`
(:func:`hybrid.backends.local.processes.tile_rows.missing_tiles` reads it). Data from
anything else (merge_cubes, resampling, a reducer over ``t``) gets none: every field
with a pixel has its rows, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hybrid.backends.local.load_paths import IN_LOAD

#: the aggregate_spatial argument :func:`mark_tile_sources` adds: the node whose cube's
#: empty layout keys are the tiles Copernicus does not have
TILE_SOURCE = "tile_source"
#: the nodes whose cube's empty keys are missing tiles (a ``mask`` only when applied in
#: the load: :mod:`hybrid.backends.local.data_masks`)
_SOURCES = frozenset({"load_collection", "load_stac", "mask_scl_dilation"})
#: processes that keep their data's tiles, each tile computed on its own (the data is
#: their ``data`` argument)
_KEEPING = frozenset(
    {
        "apply", "filter_bands", "filter_temporal", "filter_bbox", "filter_spatial",
        "linear_scale_range", "mask", "ndvi", "rename_labels", "drop_dimension",
        "add_dimension", "rename_dimension", "apply_kernel",
    }
)  # fmt: skip


def mark_tile_sources(graph: dict[str, Any]) -> None:
    """Give every aggregate_spatial of the flat ``graph`` (the run's copy, its masks
    marked by :func:`hybrid.backends.local.data_masks.mark`) its :data:`TILE_SOURCE`
    where it has one, in place."""
    for node in graph.values():
        if not isinstance(node, dict) or node.get("process_id") != "aggregate_spatial":
            continue
        arguments = node.get("arguments")
        if not isinstance(arguments, dict):
            continue
        source = tile_source(graph, arguments.get("data"))
        if source is not None:
            arguments[TILE_SOURCE] = {"from_node": source}


def tile_source(graph: Mapping[str, Any], data: Any) -> str | None:
    """The id of the node whose cube's empty keys are the missing tiles of ``data`` (a
    reference), or None."""
    seen: set[str] = set()
    while isinstance(data, Mapping) and data.get("from_node") in graph:
        node_id = str(data["from_node"])
        node = graph[node_id]
        if node_id in seen or not isinstance(node, Mapping):
            return None
        seen.add(node_id)
        process = node.get("process_id")
        arguments = node.get("arguments") or {}
        if process in _SOURCES or (process == "mask" and arguments.get(IN_LOAD)):
            return node_id
        if process == "reduce_dimension" and arguments.get("dimension") != "t":
            data = arguments.get("data")
            continue
        if process not in _KEEPING:
            return None
        data = arguments.get("data")
    return None
